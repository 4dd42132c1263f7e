// Errors a user can act on. Their message is one line that says what to do.
export class MnkvmError extends Error {
  /** Extra lines shown after the message (for example a guest's last console lines). */
  readonly details: string[];
  constructor(message: string, details: string[] = []) {
    super(message);
    this.name = 'MnkvmError';
    this.details = details;
  }
}
