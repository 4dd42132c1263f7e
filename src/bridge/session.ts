// A mnkvm session: the engine, the bridged Python, and, however the session
// ends (normally, an error, Ctrl-C, SIGTERM, Python dying), a sweep of the
// run's resource record.
import { PythonBridge } from './bridge.js';
import { Engine } from '../engine/engine.js';
import { BackendByOption } from '../engine/backends.js';
import { SriovFabric } from '../sriov/fabric.js';
import { SriovAcrossServers } from '../sriov/across.js';
import { MnkvmError } from '../engine/errors.js';
import { describeSweep } from '../engine/sweep.js';
import { Cluster } from '../cluster/cluster.js';
import type { ClusterOptions } from '../cluster/servers.js';

export type { ClusterOptions };

/** A session runs Mininet, which needs network namespaces: root. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new MnkvmError('mnkvm must run as root (Mininet needs network namespaces): try `sudo mnkvm ...`');
  }
}

export class Session {
  private constructor(readonly engine: Engine, readonly bridge: PythonBridge, private readonly cluster: Cluster | null) {}

  /** cluster: the servers to spread over, connected and checked before Python starts, saying what it finds through log. */
  static async open(cluster?: ClusterOptions, log = (line: string) => { process.stderr.write(`${line}\n`); }): Promise<Session> {
    const engine = new Engine(undefined, (record, notice, progress) => new BackendByOption(record, notice, progress),
      (record, notice) => new SriovFabric(record, notice),
      (servers) => new SriovAcrossServers(servers));
    let servers: Cluster | null = null;
    try {
      if (cluster?.servers.length) {
        servers = await Cluster.open(cluster.servers, cluster.placement, engine.record.dir, log);
        engine.cluster = servers;
      }
      return new Session(engine, await PythonBridge.open(engine), servers);
    } catch (e) {
      await servers?.close();
      await engine.shutdown();
      throw e;
    }
  }

  module<T>(name: string): Promise<T> {
    return this.bridge.module<T>(name);
  }

  /** Close the bridge and remove whatever the run left; returns what was removed ('' for nothing). */
  async close(): Promise<string> {
    // Let engine calls under way answer Python before the bridge closes.
    await this.engine.settle();
    await this.bridge.close();
    const remote = (await this.cluster?.close()) ?? [];
    return [describeSweep(await this.engine.shutdown()), ...remote].filter(Boolean).join('; ');
  }
}

/**
 * Call `module.main(...args)` in Python with no time limit and return what
 * it returns; if Python dies meanwhile, return its exit code.
 */
export async function callPython<T>(module: string, args: unknown[], cluster?: ClusterOptions): Promise<T | { pythonExited: number }> {
  let session: Session | undefined;
  // A terminal's Ctrl-C reaches Python too (same process group): Mininet
  // decides what it means there. A SIGINT sent to this process alone must do
  // the same: it is passed on (Python tells the two apart, see entry.py).
  const onInt = () => session?.bridge.interrupt();
  const onTerm = () => session?.bridge.terminate();
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onTerm);
  try {
    session = await Session.open(cluster);
    const entry = await session.module<{ main$(...args: unknown[]): Promise<T> }>(module);
    return await session.bridge.call((t) => entry.main$(...args, t));
  } finally {
    const removed = await session?.close();
    if (removed) process.stderr.write(`*** mnkvm: removed ${removed}\n`);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onTerm);
  }
}

/** Run an entry point that returns an exit code (mn, a user's script). */
export async function runInPython(module: 'mnkvm.mn' | 'mnkvm.script' | 'mnkvm.migrate', args: unknown[], cluster?: ClusterOptions): Promise<number> {
  const result = await callPython<number>(module, args, cluster);
  return typeof result === 'number' ? result : result.pythonExited;
}
