// A process a host's popen() started, as a TypeScript program reads it.
import { py } from './errors.js';
import { NO_LIMIT, type ApiModule, type ProcessRef } from './python.js';

/** A process running on a host: its output lines (stdout and stderr merged) as they come, then its exit code. */
export class Popen {
  /** @internal (pmonitor() reads the output of several) */
  readonly api: ApiModule;
  /** @internal */
  readonly process: ProcessRef;

  /** @internal (Node.popen() makes them) */
  constructor(api: ApiModule, process: ProcessRef, readonly pid: number) {
    this.api = api;
    this.process = process;
  }

  /** Its output, a line at a time (each with its newline), until it ends. */
  async *lines(): AsyncGenerator<string> {
    for (;;) {
      const line = await py(this.api, this.api.readline$(this.process, NO_LIMIT));
      if (line === null) return;
      yield line;
    }
  }

  /** Read what is left of its output and wait for it to end; its exit code (minus a signal's number where one ended it). */
  async wait(): Promise<number> {
    for await (const line of this.lines()) void line;
    return py(this.api, this.api.wait$(this.process, NO_LIMIT));
  }

  /** Send it a signal (SIGTERM where not given). */
  sendSignal(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return py(this.api, this.api.sendSignal(this.process, signal));
  }

  terminate(): Promise<void> {
    return this.sendSignal('SIGTERM');
  }

  kill(): Promise<void> {
    return this.sendSignal('SIGKILL');
  }
}

/**
 * Mininet's pmonitor(): the output of several processes (each keyed by its
 * host, or whatever a program keys it by), a line at a time as it comes, as
 * [key, line]; [null, ''] where timeoutms passed with none. It ends when
 * every process has closed its output. (Read a process by pmonitor or by
 * its lines(), not both.)
 */
export async function* pmonitor<K>(popens: Map<K, Popen>, timeoutms = 500): AsyncGenerator<[K, string] | [null, '']> {
  const keys = [...popens.keys()];
  const processes = [...popens.values()].map((p) => p.process);
  const first = popens.values().next().value;
  if (!first) return;
  const api = first.api;
  const lines = await py(api, api.pmonitor$(timeoutms, ...processes, NO_LIMIT));
  for (;;) {
    const item = await py(api, api.following$(lines, NO_LIMIT));
    if (item === null) return;
    const [index, line] = JSON.parse(item) as [number | null, string];
    yield index === null ? [null, ''] : [keys[index]!, line];
  }
}
