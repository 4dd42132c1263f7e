// The bridge: one pythonia session running Debian's Python and Mininet,
// with mininet-ext on its path and the engine attached, so that Mininet
// (in Python) can call the engine (in TypeScript) and vice versa.
import type { ChildProcess } from 'node:child_process';
import type { Engine } from '../engine/engine.js';
import { MnkvmError } from '../engine/errors.js';
import { MININET_EXT } from '../engine/paths.js';

declare const heldInPython: unique symbol;
/**
 * An object held in Python, seen through pythonia. Opaque: a module's
 * interface (e.g. src/api/python.ts) says what its functions take and give.
 */
export interface PythonRef { readonly [heldInPython]: true }

interface Pythonia {
  python: ((module: string) => Promise<unknown>) & { exit(): void };
  com: { proc: ChildProcess };
}

export class PythonBridge {
  private static current: PythonBridge | undefined;
  // proc is kept here: pythonia forgets its process (com.proc = null) on
  // exit(), and a signal can reach mnkvm just after that (the terminal's
  // group gets it at once, Python has ended first).
  private constructor(
    private readonly pythonia: Pythonia,
    private readonly proc: ChildProcess,
    private readonly exited: Promise<number>,
  ) {}

  /** Start Python (Debian's, which sees the mininet package) and attach the engine. */
  static async open(engine: Engine): Promise<PythonBridge> {
    if (PythonBridge.current) throw new MnkvmError('one mnkvm network at a time per process: stop the other one first');
    // pythonia spawns $PYTHON_BIN when first imported, and again on first use after an exit().
    process.env.PYTHON_BIN ??= '/usr/bin/python3';
    // pythonia is CommonJS: its module.exports is the default export.
    const pythonia = (await import('pythonia')).default as unknown as Pythonia;
    const sys = await pythonia.python('sys') as { path: { insert(i: number, path: string): Promise<void> } };
    const proc = pythonia.com.proc;
    // An engine call can finish after Python died (Ctrl-C mid-call): its answer has nowhere to go.
    proc.on('error', () => undefined);
    const exited = new Promise<number>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
    const bridge = new PythonBridge(pythonia, proc, exited);
    PythonBridge.current = bridge;
    if (proc.pid !== undefined) engine.recordProcess('python', proc.pid);
    try {
      await sys.path.insert(0, MININET_EXT);
      const mnkvmEngine = await bridge.module<{ attach(engine: Engine): Promise<void> }>('mnkvm.engine');
      await mnkvmEngine.attach(engine);
    } catch (e) {
      await bridge.close();
      throw e;
    }
    return bridge;
  }

  /** A Python module; T: what its functions take and give (the caller's word: pythonia checks nothing). */
  async module<T>(name: string): Promise<T> {
    return await this.pythonia.python(name) as T;
  }

  /**
   * Call fn in Python with no time limit (fn calls a method with a trailing $, e.g. main$(args, t)) (a build or Mininet's CLI can take
   * as long as it takes); if Python dies meanwhile, resolve with its exit code.
   */
  async call<T>(fn: (timeout: { $timeout: number }) => Promise<T>): Promise<T | { pythonExited: number }> {
    const died = this.exited.then((code) => ({ pythonExited: code }));
    return Promise.race([fn({ $timeout: Infinity }), died]);
  }

  /** Pass on a SIGINT sent to this process alone: mnkvm.entry takes SIGUSR1 as one. */
  interrupt(): void {
    this.proc.kill('SIGUSR1');
  }

  /**
   * Tell Python to leave what it is doing (it raises Terminated); if it has
   * not left within graceMs, kill it: the caller's sweep removes the rest.
   */
  terminate(graceMs = 10_000): void {
    // (kill() of a process that has exited is nothing: node knows it ended)
    this.proc.kill('SIGTERM');
    setTimeout(() => this.proc.kill('SIGKILL'), graceMs).unref();
  }

  /** End the Python session and wait (at most 2 s) for the process to exit. */
  async close(): Promise<void> {
    if (PythonBridge.current === this) PythonBridge.current = undefined;
    try {
      this.pythonia.python.exit();
    } catch {
      // Python is already gone.
    }
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}
