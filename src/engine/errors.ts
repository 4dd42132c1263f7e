// Errors a user can act on: one line that says what to do. They cross to
// Python (and back) as records of kind, message and details, never as
// text to match (calls.ts, mininet-ext/mnkvm/engine.py).

/**
 * usage: a wrong input or a missing piece (the message says the fix);
 * clash: a name another run or the machine holds (details: name, holder);
 * guest: a guest that did not start or answer (details: host, console lines);
 * mininet: an exception raised in Mininet (details: pythonType, traceback);
 * internal: a bug (details: stack).
 */
export type ErrorKind = 'usage' | 'clash' | 'guest' | 'mininet' | 'internal';

export interface ErrorRecord { kind: ErrorKind; message: string; details: Record<string, unknown> }

export class MnkvmError extends Error {
  constructor(message: string, readonly kind: ErrorKind = 'usage', readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'MnkvmError';
  }

  /** The error as it crosses the bridge. */
  toRecord(): ErrorRecord {
    return { kind: this.kind, message: this.message, details: this.details };
  }

  /** Any error as it crosses the bridge: one that is not a MnkvmError is a bug (kind internal). */
  static record(e: unknown): ErrorRecord {
    if (e instanceof MnkvmError) return e.toRecord();
    const error = e instanceof Error ? e : new Error(String(e));
    return { kind: 'internal', message: error.message, details: { stack: error.stack ?? '' } };
  }
}
