// usage-error.ts: errors caused by what the user typed or supplied (flags, files, configs).
import { PvkvmError } from '../host/errors.ts';

/** Printed as one line, no stack trace; exits with EXIT.usage unless a code is given. */
export class UsageError extends PvkvmError {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}
