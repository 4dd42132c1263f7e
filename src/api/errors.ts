// The API's errors: a MnkvmError family, never a raw traceback. Python's
// side (mnkvm.api) keeps the record of an exception it raised; py() fetches
// it: no traceback text is parsed.
import { MnkvmError, type ErrorRecord } from '../engine/errors.js';
import type { ApiModule } from './python.js';

export { MnkvmError };

/** An exception raised in Mininet (Python); the Python type and traceback are attached. */
export class MininetError extends MnkvmError {
  readonly pythonType: string;
  readonly pythonTraceback: string;
  constructor(message: string, details: { pythonType: string; traceback: string }) {
    super(message, 'mininet', details);
    this.name = 'MininetError';
    this.pythonType = details.pythonType;
    this.pythonTraceback = details.traceback;
  }
}

/** The error a record describes. */
export function fromRecord(record: ErrorRecord): MnkvmError {
  if (record.kind === 'mininet') return new MininetError(record.message, record.details as { pythonType: string; traceback: string });
  return new MnkvmError(record.message, record.kind, record.details);
}

/** Await a call of mnkvm.api; its exception comes back as the MnkvmError its record describes. */
export async function py<T>(api: ApiModule, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    const record = JSON.parse(await api.lastError().catch(() => 'null')) as ErrorRecord | null;
    if (record) throw fromRecord(record);
    throw e;   // not raised by mnkvm.api (Python died, a bridge failure): as it came
  }
}
