// A mnkvm session: the engine, the bridged Python, and, whatever happens
// (an error, Ctrl-C, SIGTERM, Python dying), a sweep of the run's resource
// record at the end.
import { PythonBridge } from '../bridge/bridge.js';
import { Engine } from '../engine/engine.js';
import { describe } from '../engine/records.js';

const log = (line: string) => process.stderr.write(line + '\n');

/**
 * Call `module.main(...args)` in Python with no time limit and return what
 * it returns; if Python dies meanwhile, return its exit code.
 */
export async function callPython<T>(module: string, args: unknown[]): Promise<T | { pythonExited: number }> {
  const engine = new Engine();
  let bridge: PythonBridge | undefined;
  // Ctrl-C reaches Python too (same process group): Mininet decides what it
  // means there; this process only has to live on to clean up.
  const onInt = () => undefined;
  const onTerm = () => bridge?.terminate();
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onTerm);
  try {
    bridge = await PythonBridge.open(engine);
    const entry = await bridge.module(module);
    return await bridge.call((t) => entry.main$(...args, t) as Promise<T>);
  } finally {
    // Let engine calls under way answer Python before the bridge closes.
    await engine.settle();
    await bridge?.close();
    const removed = describe(await engine.shutdown());
    if (removed) log(`*** mnkvm: removed ${removed}`);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onTerm);
  }
}

/** Run an entry point that returns an exit code (mn, a user's script). */
export async function runInPython(module: 'mnkvm.mn' | 'mnkvm.script', args: unknown[]): Promise<number> {
  const result = await callPython<number>(module, args);
  return typeof result === 'number' ? result : result.pythonExited;
}
