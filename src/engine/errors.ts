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
export const ERROR_KINDS = ['usage', 'clash', 'guest', 'mininet', 'internal'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** What each kind's details carry (a field marked ? where only some errors of the kind have it). */
export interface ErrorDetails {
  /** server: the server of the run whose mnkvm said it. */
  usage: { server?: string };
  /** name: the name (an interface, a bridge, a VF) and who holds it: another run (pid), a run that ended, the machine; vlan: a VLAN another link has. */
  clash: { name?: string; holder?: 'run' | 'ended run' | 'machine'; pid?: number | null; vlan?: number; server?: string };
  /** host: the KVM host; console: its guest's last console lines. */
  guest: { host: string; console: string[] };
  /** pythonType: the exception's class (KeyError); traceback: Python's. */
  mininet: { pythonType: string; traceback: string };
  /** stack: where the bug is. */
  internal: { stack: string };
}

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
