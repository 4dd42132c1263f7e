// A process a host's popen() started, as a TypeScript program reads it.
import { py } from './errors.js';
import { NO_LIMIT, type ApiModule, type ProcessRef } from './python.js';

/** A process running on a host: its output lines (stdout and stderr merged) as they come, then its exit code. */
export class Popen {
  /** @internal (Node.popen() makes them) */
  constructor(private readonly api: ApiModule, private readonly process: ProcessRef, readonly pid: number) {}

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
