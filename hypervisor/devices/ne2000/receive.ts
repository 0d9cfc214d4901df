// receive.ts: storing a received frame into the PSTART/PSTOP/BNRY/CURR ring the way the DP8390 does
// — the 4-byte header, 256-byte pages, wrap at PSTOP — with every guest-programmed pointer checked.
import { MEM, PAGE, RX_HDR } from './regs.ts';

/** The receive ring as the guest programmed it (page numbers, 0–255 each). */
export interface RingPointers {
  readonly pstart: number;
  readonly pstop: number;
  readonly bnry: number;
  readonly curr: number;
}

/** Card-address bounds of a usable ring, or null when PSTART/PSTOP do not describe one in the buffer. */
export function ringBounds(r: RingPointers): { start: number; stop: number } | null {
  const start = r.pstart * PAGE;
  const stop = r.pstop * PAGE;
  if (stop <= start || start < MEM.START || stop > MEM.END) return null;
  return { start, stop };
}

/** Bytes the receiver may fill from CURR before it would overwrite the page BNRY holds (QEMU's rule). */
export function ringAvail(r: RingPointers): number {
  const b = ringBounds(r);
  if (b === null) return 0;
  const size = b.stop - b.start;
  const index = clampPage(r.curr, b) * PAGE;
  const boundary = clampPage(r.bnry, b) * PAGE;
  return index < boundary ? boundary - index : size - (index - boundary);
}

/** Space a frame of `len` bytes takes: header, data and 4 bytes for the FCS, in whole pages. */
export const ringSpace = (len: number): number => Math.ceil((len + RX_HDR + 4) / PAGE) * PAGE;

/** A pointer outside the ring (hostile or stale) is taken as PSTART, as QEMU restarts there. */
function clampPage(page: number, b: { start: number; stop: number }): number {
  const a = page * PAGE;
  return (a < b.start || a >= b.stop ? b.start : a) / PAGE;
}

/**
 * Write header + frame at CURR (the caller checked space with ringAvail); returns the new CURR.
 * `mem` is the 16 KiB buffer indexed from MEM.START.
 */
export function storeFrame(mem: Uint8Array, r: RingPointers, frame: Uint8Array, status: number): number {
  const b = ringBounds(r)!;
  const index = clampPage(r.curr, b) * PAGE;
  const count = frame.length + RX_HDR;
  let next = index + ringSpace(frame.length);
  if (next >= b.stop) next -= b.stop - b.start;
  const hdr = index - MEM.START;
  mem[hdr] = status;
  mem[hdr + 1] = next / PAGE;
  mem[hdr + 2] = count & 0xff;
  mem[hdr + 3] = count >> 8;
  // The header never straddles PSTOP (it starts a page); the data may wrap once.
  let at = index + RX_HDR;
  let done = 0;
  while (done < frame.length) {
    if (at >= b.stop) at = b.start;
    const n = Math.min(frame.length - done, b.stop - at);
    mem.set(frame.subarray(done, done + n), at - MEM.START);
    done += n;
    at += n;
  }
  return next / PAGE;
}
