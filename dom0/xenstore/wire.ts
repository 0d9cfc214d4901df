// wire.ts: the xs_wire message format — type numbers, the 16-byte header, framing and payload strings.
import { XsError } from './errors.ts';

export const XS = {
  CONTROL: 0, DIRECTORY: 1, READ: 2, GET_PERMS: 3, WATCH: 4, UNWATCH: 5, TRANSACTION_START: 6,
  TRANSACTION_END: 7, INTRODUCE: 8, RELEASE: 9, GET_DOMAIN_PATH: 10, WRITE: 11, MKDIR: 12, RM: 13,
  SET_PERMS: 14, WATCH_EVENT: 15, ERROR: 16, IS_DOMAIN_INTRODUCED: 17, RESUME: 18, SET_TARGET: 19,
  RESET_WATCHES: 21, DIRECTORY_PART: 22, GET_FEATURE: 23, SET_FEATURE: 24, GET_QUOTA: 25,
  SET_QUOTA: 26, INVALID: 0xffff,
} as const;

export type XsType = (typeof XS)[keyof typeof XS];

/** Header: u32 type, req_id, tx_id, len (little-endian). */
export const HEADER_SIZE = 16;
/** XENSTORE_PAYLOAD_MAX, in each direction; a request over it kills the connection. */
export const PAYLOAD_MAX = 4096;

export interface XsMsg {
  type: number;
  reqId: number;
  txId: number;
  payload: Buffer;
}

export function encodeMsg(type: number, reqId: number, txId: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  out.writeUInt32LE(type >>> 0, 0);
  out.writeUInt32LE(reqId >>> 0, 4);
  out.writeUInt32LE(txId >>> 0, 8);
  out.writeUInt32LE(body.length, 12);
  body.copy(out, HEADER_SIZE);
  return out;
}

/** Raised by FrameParser when a header announces more than PAYLOAD_MAX bytes. */
export class FrameTooLong extends Error {
  constructor(readonly len: number) {
    super(`xenstore frame payload ${len} > ${PAYLOAD_MAX}`);
  }
}

/**
 * Reassembles messages from a byte stream that arrives in arbitrary pieces (socket reads, ring
 * kicks). Input is copied in, so callers may reuse or lose their buffers.
 */
export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Append bytes; return every message now complete. Throws FrameTooLong on a bad header. */
  push(bytes: Uint8Array): XsMsg[] {
    if (bytes.length > 0) {
      this.chunks.push(Buffer.from(bytes)); // a copy: the source may be shared memory
      this.buffered += bytes.length;
    }
    const out: XsMsg[] = [];
    for (;;) {
      if (this.buffered < HEADER_SIZE) break;
      const head = this.peek(HEADER_SIZE);
      const len = head.readUInt32LE(12);
      if (len > PAYLOAD_MAX) throw new FrameTooLong(len);
      if (this.buffered < HEADER_SIZE + len) break;
      const whole = this.take(HEADER_SIZE + len);
      out.push({
        type: whole.readUInt32LE(0), reqId: whole.readUInt32LE(4), txId: whole.readUInt32LE(8),
        payload: whole.subarray(HEADER_SIZE),
      });
    }
    return out;
  }

  /** Bytes of an incomplete message held back. */
  get pending(): number {
    return this.buffered;
  }

  reset(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const msg = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return msg;
  }
}

/**
 * Split a payload of NUL-terminated strings. Xen insists on the final NUL (onearg/get_strings), so
 * a payload without one is EINVAL. `min` is how many strings the request needs.
 */
export function stringArgs(payload: Buffer, min: number): string[] {
  if (payload.length === 0 || payload[payload.length - 1] !== 0) throw new XsError('EINVAL', 'payload not NUL-terminated');
  const parts = payload.subarray(0, payload.length - 1).toString('utf8').split('\0');
  if (parts.length < min) throw new XsError('EINVAL', `expected ${min} argument(s)`);
  return parts;
}

/** WRITE's payload: path NUL value, where the value is raw bytes (may hold NULs, no terminator). */
export function writeArgs(payload: Buffer): { path: string; value: Buffer } {
  const nul = payload.indexOf(0);
  if (nul < 0) throw new XsError('EINVAL', 'WRITE without a NUL after the path');
  return { path: payload.subarray(0, nul).toString('utf8'), value: Buffer.from(payload.subarray(nul + 1)) };
}

/** Strings → payload with each string NUL-terminated (DIRECTORY, GET_PERMS, WATCH_EVENT…). */
export function nulJoin(items: readonly string[]): Buffer {
  return Buffer.from(items.map((s) => `${s}\0`).join(''), 'utf8');
}

/** A decimal u32 argument (domid, offset, depth); anything else is EINVAL. */
export function decimalArg(s: string | undefined, max = 0xffffffff): number {
  if (s === undefined || !/^[0-9]{1,10}$/.test(s)) throw new XsError('EINVAL', `not a number: ${s}`);
  const n = Number(s);
  if (n > max) throw new XsError('EINVAL', `out of range: ${s}`);
  return n;
}
