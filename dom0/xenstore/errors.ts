// errors.ts: xenstore error names (xs_wire.h's xsd_errors) and the exception that carries one.

/** The error names a server may put in an ERROR reply, in xsd_errors order. */
export const XSD_ERRORS = [
  'EINVAL', 'EACCES', 'EEXIST', 'EISDIR', 'ENOENT', 'ENOMEM', 'ENOSPC', 'EIO',
  'ENOTEMPTY', 'ENOSYS', 'EROFS', 'EBUSY', 'EAGAIN', 'EISCONN', 'E2BIG', 'EPERM',
] as const;

export type XsdError = (typeof XSD_ERRORS)[number];

/** A failed xenstore operation; `code` is what goes on the wire. */
export class XsError extends Error {
  readonly code: XsdError;

  constructor(code: XsdError, detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'XsError';
    this.code = code;
  }
}

export function isXsdError(s: string): s is XsdError {
  return (XSD_ERRORS as readonly string[]).includes(s);
}
