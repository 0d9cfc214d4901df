// errors.ts: the base class of every error meant for the user: printed as one line, no stack.

/** An expected failure with a message that stands on its own (bad input, missing host feature). */
export class PvkvmError extends Error {
  override name = 'PvkvmError';
}
