// errors.ts: the exception that carries a xenstore error name (xs_wire.h's xsd_errors, listed in
// abi/io/xs-wire.ts) to the ERROR reply.
import type { XsdError } from '../../abi/io/xs-wire.ts';

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

