// ring-fuzz.ts: what a hostile frontend writes into a shared ring, drawn from the seeded Rng of
// fuzz.ts — blkif requests, netif TX/RX slots, xs_wire messages and ring indices — and the
// per-target tally that test/ring-fuzz.test.ts reports to bench/fuzz.mjs.
import { Rng } from './fuzz.ts';
import { OP, type RawReq } from './mock-frontend.ts';
import { encodeMsg } from '../../dom0/xenstore/wire.ts';

/** What one target tried and what came of it. */
export interface Tally { frames: number; indices: number; answered: number; disconnects: number; crashes: number; hangs: number }
export const tally = (): Tally => ({ frames: 0, indices: 0, answered: 0, disconnects: 0, crashes: 0, hangs: 0 });

/**
 * A ring index a hostile frontend might publish: more than `ringSize` ahead of the sane value `at`
 * (an in-range lie is just a frontend re-sending old slots, which a backend may rightly wait on).
 */
export function badIndex(r: Rng, at: number, ringSize: number): number {
  const v = anyIndex(r, at, ringSize);
  return ((v - at) >>> 0) <= ringSize ? (v + ringSize + 1) >>> 0 : v;
}

function anyIndex(r: Rng, at: number, ringSize: number): number {
  switch (r.below(5)) {
    case 0: return r.u32();
    case 1: return (at + ringSize + 1 + r.below(1 << 16)) >>> 0; // ahead of the ring
    case 2: return (at - 1 - r.below(ringSize)) >>> 0; // behind the consumer
    case 3: return (at + 0x80000000) >>> 0;
    default: return r.pick([0, 0xffffffff, 0x7fffffff, ringSize + 1, ringSize * 2]);
  }
}

/** A blkif request: random op, segment count, grants, sectors and first/last_sect. */
export function blkRequest(r: Rng, grefs: readonly number[], sectors: number): RawReq {
  const gref = (): number => (r.below(4) === 0 ? r.int() >>> 0 : r.pick(grefs));
  const sector = (): number => r.pick([() => r.below(sectors), () => sectors - 1 - r.below(8), () => r.int() >>> 0, () => 2 ** 40 + r.below(1000)])();
  const seg = () => ({ gref: gref(), first: r.below(4) === 0 ? r.below(256) : r.below(8), last: r.below(4) === 0 ? r.below(256) : r.below(8) });
  const op = r.below(8) === 0 ? r.below(256) : r.pick([OP.READ, OP.WRITE, OP.WRITE_BARRIER, OP.FLUSH, OP.DISCARD, OP.INDIRECT, 4, 7]);
  const nseg = r.below(6) === 0 ? r.below(256) : r.below(12);
  if (op === OP.INDIRECT) {
    return { op, sector: sector(), indirectOp: r.below(4) === 0 ? r.below(256) : r.pick([OP.READ, OP.WRITE]), nrSegments: r.below(3) === 0 ? r.below(65536) : r.below(300),
      indirectGrefs: Array.from({ length: r.below(9) }, gref), handle: r.below(8) === 0 ? r.below(65536) : undefined };
  }
  if (op === OP.DISCARD) return { op, sector: sector(), nrSectors: r.pick([() => r.below(64), () => r.int() >>> 0, () => sectors])(), handle: r.below(8) === 0 ? r.below(65536) : undefined };
  return { op, sector: sector(), segs: Array.from({ length: Math.min(nseg, 11) }, seg), nrSegments: nseg, handle: r.below(8) === 0 ? r.below(65536) : undefined };
}

/** An indirect page's worth of random segment descriptors (8 bytes each). */
export function indirectPage(r: Rng, grefs: readonly number[]): Uint8Array {
  const b = new Uint8Array(4096);
  const v = new DataView(b.buffer);
  for (let k = 0; k < 512; k++) {
    v.setUint32(8 * k, r.below(4) === 0 ? r.u32() : r.pick(grefs), true);
    v.setUint8(8 * k + 4, r.below(10)); v.setUint8(8 * k + 5, r.below(10));
  }
  return b;
}

/** A netif TX slot: random grant, offset, flags, id and size. */
export function txSlot(r: Rng, grefs: readonly number[]) {
  return {
    gref: r.below(5) === 0 ? r.u32() : r.pick(grefs),
    offset: r.pick([0, 0, r.below(4096), 4096 - r.below(64), r.below(65536)]),
    flags: r.below(4) === 0 ? r.below(65536) : r.below(16),
    id: r.below(65536),
    size: r.pick([() => 14 + r.below(1500), () => r.below(64), () => r.below(65536), () => 1514, () => 1515])(),
  };
}

const XS_PATHS = ['', '/', 'a', 'a/b', '/local', '/local/domain', '/local/domain/0', '/local/domain/2/secret', '@introduceDomain', '@releaseDomain', '/tool', 'x'.repeat(300), '../..', 'a//b', '/a/', 'ü'];

/** An xs_wire message: random type, ids, and payload; `framed` keeps the header's len honest. */
export function xsMessage(r: Rng, home: string, txIds: readonly number[], framed: boolean): Buffer {
  const type = r.below(5) === 0 ? r.int() >>> 0 : r.below(32);
  const path = (): string => r.pick([() => r.pick(XS_PATHS), () => `${home}/${r.below(20)}`, () => `k${r.below(8)}`, () => r.bytes(r.below(20)).toString('latin1')])();
  const parts = Array.from({ length: r.below(4) }, () => r.below(3) === 0 ? r.pick(['r1', 'n0', 'b5', 'w', '0', String(r.int())]) : path());
  let payload = Buffer.from(parts.map((p) => `${p}\0`).join(''), 'utf8');
  if (r.below(4) === 0) payload = payload.subarray(0, Math.max(0, payload.length - 1)); // no final NUL
  if (r.below(8) === 0) payload = Buffer.concat([payload, r.bytes(r.below(200))]);
  if (r.below(40) === 0) payload = Buffer.alloc(4096 - r.below(3), 0x61);
  const tx = r.below(3) === 0 ? r.int() >>> 0 : r.below(2) === 0 ? 0 : (txIds.length ? r.pick(txIds) : 0);
  const msg = encodeMsg(type, r.u32(), tx, payload);
  return framed ? msg : r.mutate(msg);
}
