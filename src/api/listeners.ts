// A network's progress listeners (internal): what takes the events, and the
// object Python hands Mininet's log to.
import type { ProgressEvent, ProgressListener } from './progress.js';

/** The listeners of a network's progress; one that throws is a process warning, and the work goes on. */
export class Listeners {
  readonly listeners = new Set<ProgressListener>();

  readonly emit = (event: ProgressEvent): void => {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (e) {
        process.emitWarning(`a progress listener threw: ${e instanceof Error ? e.message : String(e)}`, 'MnkvmWarning');
      }
    }
  };
}

/**
 * What Python hands Mininet's log to (api.py's Progress): an instance of a
 * class, as the engine is, which pythonia passes by reference (a plain
 * object would cross as a copy of its fields).
 */
export class MininetLog {
  constructor(private readonly progress: Listeners) {}

  event(json: string): void {
    this.progress.emit(JSON.parse(json) as ProgressEvent);
  }
}
