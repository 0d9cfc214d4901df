// xs-wire.ts: the xenstore wire protocol (io/xs_wire.h) — message types, the 16-byte xsd_sockmsg
// header, the error names a server replies with, and the xenstore_domain_interface ring page.
import { defineConstants, defineStrings, defineStruct } from '../layout.ts';
import { E, type XenErrno } from '../errno.ts';

export const XS_TYPE = defineConstants('xenstore message types (xsd_sockmsg.type)', 'XS_', {
  CONTROL: 0, DIRECTORY: 1, READ: 2, GET_PERMS: 3, WATCH: 4, UNWATCH: 5, TRANSACTION_START: 6,
  TRANSACTION_END: 7, INTRODUCE: 8, RELEASE: 9, GET_DOMAIN_PATH: 10, WRITE: 11, MKDIR: 12, RM: 13,
  SET_PERMS: 14, WATCH_EVENT: 15, ERROR: 16, IS_DOMAIN_INTRODUCED: 17, RESUME: 18, SET_TARGET: 19,
  /** 20 was XS_RESTRICT, since removed. */
  RESET_WATCHES: 21, DIRECTORY_PART: 22,
  GET_FEATURE: 23, SET_FEATURE: 24, GET_QUOTA: 25, SET_QUOTA: 26,
  /** Never a valid type. */
  INVALID: 0xffff,
}, { cEnum: 'xsd_sockmsg_type', notInXen: ['GET_FEATURE', 'SET_FEATURE', 'GET_QUOTA', 'SET_QUOTA'] });

/** Message type numbers by name: XS.READ === 2. */
export const XS = XS_TYPE.values;

/** The strings of a WATCH_EVENT payload, in order. */
export const XS_WATCH = defineConstants('Watch event payload fields', 'XS_WATCH_', {
  PATH: 0, TOKEN: 1,
}, { cEnum: 'xs_watch_type' });

export const XS_WRITE = defineStrings('Write modes (old protocol)', 'XS_WRITE_', {
  NONE: 'NONE', CREATE: 'CREATE', CREATE_EXCL: 'CREATE|EXCL',
});

export const XENSTORE = defineConstants('xenstore limits and ring page values', 'XENSTORE_', {
  /** Bytes of each direction's ring; indices are free-running, masked by size - 1. */
  RING_SIZE: 1024,
  /** Payload bytes of one message, each direction; a longer one is a protocol error. */
  PAYLOAD_MAX: 4096,
  ABS_PATH_MAX: 3072,
  REL_PATH_MAX: 2048,
  SERVER_FEATURE_RECONNECTION: 1,
  SERVER_FEATURE_ERROR: 2,
  SERVER_FEATURE_WATCHDEPTH: 4,
  /** `connection` values. */
  CONNECTED: 0,
  RECONNECT: 1,
  /** `error` values. */
  ERROR_NONE: 0,
  ERROR_COMM: 1,
  ERROR_RINGIDX: 2,
  ERROR_PROTO: 3,
}, { notInXen: ['SERVER_FEATURE_WATCHDEPTH'] });

/** Header of every message; `len` payload bytes follow (usually NUL-terminated strings). */
export const XsdSockmsg = defineStruct('xsd_sockmsg', 16, [
  ['type', 0, 'u32'], ['req_id', 4, 'u32'], ['tx_id', 8, 'u32'], ['len', 12, 'u32'],
]);

const RING = XENSTORE.values.RING_SIZE;

/** The ring page. `evtchn_port` (Xen 4.19) is set by Xen for domains it builds itself. */
export const XenstoreDomainInterface = defineStruct('xenstore_domain_interface', 2080, [
  ['req', 0, 'u8', RING], ['rsp', RING, 'u8', RING],
  ['req_cons', 2048, 'u32'], ['req_prod', 2052, 'u32'], ['rsp_cons', 2056, 'u32'], ['rsp_prod', 2060, 'u32'],
  ['server_features', 2064, 'u32'], ['connection', 2068, 'u32'], ['error', 2072, 'u32'],
  ['evtchn_port', 2076, 'u32'],
], { notInXen: ['evtchn_port'] });

/**
 * The error names an ERROR reply carries, in the order of Xen's xsd_errors table (new ones are
 * only ever appended). Each maps to the Xen errno of the same name.
 */
export const XSD_ERRORS = [
  'EINVAL', 'EACCES', 'EEXIST', 'EISDIR', 'ENOENT', 'ENOMEM', 'ENOSPC', 'EIO',
  'ENOTEMPTY', 'ENOSYS', 'EROFS', 'EBUSY', 'EAGAIN', 'EISCONN', 'E2BIG', 'EPERM',
] as const satisfies readonly XenErrno[];

export type XsdError = (typeof XSD_ERRORS)[number];

export function isXsdError(s: string): s is XsdError {
  return (XSD_ERRORS as readonly string[]).includes(s);
}

/** The xsd_errors table as a C fragment: `{ errnum, "NAME" }` entries, errnum the Xen errno. */
export interface ErrnoTable {
  readonly kind: 'errno-table';
  /** C struct tag and array name (both `xsd_errors`, as in Xen). */
  readonly cName: string;
  readonly names: readonly XenErrno[];
  readonly errnos: readonly number[];
}

export const XSD_ERROR_TABLE: ErrnoTable = {
  kind: 'errno-table', cName: 'xsd_errors', names: XSD_ERRORS, errnos: XSD_ERRORS.map((n) => E[n]),
};
