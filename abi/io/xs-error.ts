// xs-error.ts: the exception that carries a xenstore error name (xs_wire.h's xsd_errors, listed in
// xs-wire.ts) to an ERROR reply — thrown by xenstored and by any store the backend SDK is given.
import type { XsdError } from './xs-wire.ts';

export type { XsdError };

/** A failed xenstore operation; `code` is what goes on the wire. */
export class XsError extends Error {
  readonly code: XsdError;

  constructor(code: XsdError, detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'XsError';
    this.code = code;
  }
}

