// A mnkvm session: the engine, the bridged Python running one entry point
// (mn, or a user's script), and, whatever happens (an error, Ctrl-C,
// SIGTERM, Python dying), a sweep of the run's resource record at the end.
import { PythonBridge } from '../bridge/bridge.js';
import { Engine } from '../engine/engine.js';
import { describe } from '../engine/records.js';

const log = (line: string) => process.stderr.write(line + '\n');

/** Call `module.main(...args)` in Python; returns its exit code. */
export async function runInPython(module: 'mnkvm.mn' | 'mnkvm.script', args: unknown[]): Promise<number> {
  const engine = new Engine();
  let bridge: PythonBridge | undefined;
  // Ctrl-C reaches Python too (same process group): Mininet decides what it
  // means there; this process only has to live on to clean up.
  const onInt = () => undefined;
  const onTerm = () => bridge?.terminate();
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onTerm);
  let code = 1;
  try {
    bridge = await PythonBridge.open(engine);
    const entry = await bridge.module(module);
    const result = await bridge.call((t) => entry.main$(...args, t) as Promise<number>);
    code = typeof result === 'number' ? result : result.pythonExited;
  } finally {
    await bridge?.close();
    const removed = describe(await engine.shutdown());
    if (removed) log(`*** mnkvm: removed ${removed}`);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onTerm);
  }
  return code;
}
