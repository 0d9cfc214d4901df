// wire.ts: xs_wire message framing — the xsd_sockmsg header and payload strings. Type numbers,
// the header layout and the limits are abi/io/xs-wire.ts's.
import { offsetOf } from '../../abi/layout.ts';
import { XENSTORE, XsdSockmsg } from '../../abi/io/xs-wire.ts';
import { XsError } from '../../abi/io/xs-error.ts';

/** Header: u32 type, req_id, tx_id, len (little-endian). */
export const HEADER_SIZE = XsdSockmsg.size;
/** XENSTORE_PAYLOAD_MAX, in each direction; a request over it kills the connection. */
export const PAYLOAD_MAX = XENSTORE.values.PAYLOAD_MAX;
const TYPE = offsetOf(XsdSockmsg, 'type');
const REQ_ID = offsetOf(XsdSockmsg, 'req_id');
const TX_ID = offsetOf(XsdSockmsg, 'tx_id');
const LEN = offsetOf(XsdSockmsg, 'len');

export interface XsMsg {
  type: number;
  reqId: number;
  txId: number;
  payload: Buffer;
}

export function encodeMsg(type: number, reqId: number, txId: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  out.writeUInt32LE(type >>> 0, TYPE);
  out.writeUInt32LE(reqId >>> 0, REQ_ID);
  out.writeUInt32LE(txId >>> 0, TX_ID);
  out.writeUInt32LE(body.length, LEN);
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
      const len = head.readUInt32LE(LEN);
      if (len > PAYLOAD_MAX) throw new FrameTooLong(len);
      if (this.buffered < HEADER_SIZE + len) break;
      const whole = this.take(HEADER_SIZE + len);
      out.push({
        type: whole.readUInt32LE(TYPE), reqId: whole.readUInt32LE(REQ_ID), txId: whole.readUInt32LE(TX_ID),
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
