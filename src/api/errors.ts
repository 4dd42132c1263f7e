// The API's errors: a MnkvmError family, never a raw traceback.
import { MnkvmError } from '../engine/errors.js';

export { MnkvmError };

/** An exception raised in Mininet (Python); the Python type and traceback are attached. */
export class MininetError extends MnkvmError {
  constructor(message: string, readonly pythonType: string, readonly pythonTraceback: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'MininetError';
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** Turn a pythonia error into a MnkvmError (or a MininetError carrying the Python cause). */
export function fromPython(e: unknown): Error {
  if (e instanceof MnkvmError) return e;
  const text = e instanceof Error ? e.message + '\n' + (e.stack ?? '') : String(e);
  const own = /MnkvmError: (.*)/.exec(text);
  if (own) return new MnkvmError(own[1]);
  // pythonia ends its report with the Python exception: "*** JS *** KeyError: 'nope'".
  const last = [...text.matchAll(/(?:^\s*|\*\*\* )([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)): (.*)$/gm)].at(-1);
  if (last) return new MininetError(last[2], last[1], text, { cause: e });
  return e instanceof Error ? e : new Error(text);
}

/** Await a bridge call, converting its errors. */
export async function py<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    throw fromPython(e);
  }
}
