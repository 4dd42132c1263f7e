// Errors a user can act on. Their message is one line that says what to do.
export class MnkvmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MnkvmError';
  }
}
