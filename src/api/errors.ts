// The API's errors: a MnkvmError family, never a raw traceback. Python's
// side (mnkvm.api) keeps the record of an exception it raised; py() fetches
// it: no traceback text is parsed. A program branches on an error's kind
// (isMnkvmError narrows its details to that kind's), never on its message.
import { ERROR_KINDS, MnkvmError, type ErrorDetails, type ErrorKind, type ErrorRecord } from '../engine/errors.js';
import type { ApiModule } from './python.js';

export { ERROR_KINDS, MnkvmError, type ErrorDetails, type ErrorKind, type ErrorRecord };

/** An exception raised in Mininet (Python), of kind mininet; the Python type and traceback are attached. */
export class MininetError extends MnkvmError {
  readonly pythonType: string;
  readonly pythonTraceback: string;
  constructor(message: string, details: ErrorDetails['mininet']) {
    super(message, 'mininet', { ...details });
    this.name = 'MininetError';
    this.pythonType = details.pythonType;
    this.pythonTraceback = details.traceback;
  }
}

/** A MnkvmError whose details are its kind's: `switch (e.kind)` narrows them. */
export type KindedError = { [K in ErrorKind]: MnkvmError & { readonly kind: K; readonly details: ErrorDetails[K] } }[ErrorKind];

/**
 * Is e one of mnkvm's errors (any kind, or the kind given)? Then its kind
 * and details are typed:
 * ```ts
 * catch (e) {
 *   if (isMnkvmError(e, 'guest')) console.log(e.details.console.join('\n'));
 *   else if (isMnkvmError(e, 'clash')) console.log(`${e.details.name} is taken`);
 *   else throw e;
 * }
 * ```
 */
export function isMnkvmError(e: unknown): e is KindedError;
export function isMnkvmError<K extends ErrorKind>(e: unknown, kind: K): e is Extract<KindedError, { kind: K }>;
export function isMnkvmError(e: unknown, kind?: ErrorKind): boolean {
  return e instanceof MnkvmError && (kind === undefined || e.kind === kind);
}

/** The error a record describes. */
export function fromRecord(record: ErrorRecord): MnkvmError {
  if (record.kind === 'mininet') return new MininetError(record.message, record.details as ErrorDetails['mininet']);
  return new MnkvmError(record.message, record.kind, record.details);
}

/** Await a call of mnkvm.api; its exception comes back as the MnkvmError its record describes. */
export async function py<T>(api: ApiModule, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    const record = JSON.parse(await api.lastError().catch(() => 'null')) as ErrorRecord | null;
    // (none: not raised by mnkvm.api, but Python died or the bridge failed: a bug, kind internal)
    throw fromRecord(record ?? MnkvmError.record(e));
  }
}
