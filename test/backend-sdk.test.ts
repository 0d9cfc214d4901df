// backend-sdk.test.ts: the SDK's pieces on their own — the back ring (event suppression, the
// final check, entries straddling pages, overflow), transport key parsing, the blkif codec.
import t from 'tap';
import { BackRing, RingOverflowError, ringSize } from '../dom0/backend-sdk/ring.ts';
import { readRingTransport, readNamedRings, TransportError } from '../dom0/backend-sdk/transport.ts';
import { decodeRequest, encodeRequest, encodeResponse, decodeResponse } from '../dom0/backend-sdk/blkif.ts';

function pages(n: number): Uint8Array[] {
  const buf = new ArrayBuffer(n * 4096);
  return Array.from({ length: n }, (_, i) => new Uint8Array(buf, i * 4096, 4096));
}
const hdr = (p: Uint8Array[]) => new Int32Array(p[0]!.buffer, 0, 4);

t.test('ring sizes as io/ring.h computes them', async (t) => {
  t.equal(ringSize(1, 112), 32);
  t.equal(ringSize(1, 108), 32);
  t.equal(ringSize(4, 112), 128);
  t.equal(ringSize(16, 112), 512);
  t.equal(ringSize(1, 12), 256);
});

t.test('requests are copied, responses pushed with the notify check', async (t) => {
  const p = pages(2);
  const h = hdr(p);
  h[1] = 1; h[3] = 1;
  const ring = new BackRing(p, 112);
  t.same(ring.take(), [], 'empty');
  t.notOk(ring.finalCheck(), 'no work');
  t.equal(h[1], 1, 'req_event = req_cons + 1');
  // Fill 40 requests (the ring is 64 entries over two pages; entry 36 straddles the boundary).
  for (let i = 0; i < 40; i++) {
    const at = 64 + i * 112;
    for (let b = 0; b < 112; b++) { const o = at + b; p[o >> 12]![o & 4095] = (i + b) & 0xff; }
  }
  h[0] = 40;
  const got = ring.take();
  t.equal(got.length, 40);
  t.ok(got.every((e, i) => e.every((v, b) => v === ((i + b) & 0xff))), 'every entry intact, straddling ones too');
  got[0]![0] = 0xee;
  t.equal(p[0]![64], 0, 'a private copy');
  for (let i = 0; i < 40; i++) ring.respond(new Uint8Array(16).fill(i));
  h[3] = 1; // the frontend wants an event at the first response
  t.ok(ring.push(), 'notify: rsp_event inside (old, new]');
  t.equal(h[2], 40);
  h[0] = 41;
  t.equal(ring.take().length, 1);
  ring.respond(new Uint8Array(16));
  h[3] = 100; // the frontend asked to be woken much later
  t.notOk(ring.push(), 'no notify outside (old, new]');
  t.notOk(ring.finalCheck());
  t.equal(h[1], 42);
});

t.test('a producer index beyond the ring is refused', async (t) => {
  const p = pages(1);
  const ring = new BackRing(p, 112);
  hdr(p)[0] = 33;
  t.throws(() => ring.take(), RingOverflowError);
  hdr(p)[0] = -5;
  t.throws(() => ring.take(), RingOverflowError, 'wrapped garbage too');
  hdr(p)[0] = 32;
  t.equal(ring.take().length, 32, 'exactly a full ring is fine');
});

t.test('transport keys', async (t) => {
  const keys = (o: Record<string, string>) => (k: string) => o[k] ?? null;
  t.same(readRingTransport(keys({ 'ring-ref': '9', 'event-channel': '12' }), 4), { refs: [9], order: 0, port: 12, protocol: 'x86_64-abi' });
  t.same(readRingTransport(keys({ 'ring-page-order': '1', 'ring-ref0': '9', 'ring-ref1': '10', 'event-channel': '3', protocol: 'x86_32-abi' }), 4).refs, [9, 10]);
  const bads: Record<string, string>[] = [
    {}, { 'ring-ref': 'x', 'event-channel': '1' }, { 'ring-ref': '1' }, { 'ring-ref': '1', 'event-channel': '-1' },
    { 'ring-page-order': '5', 'event-channel': '1' }, { 'ring-page-order': '1', 'ring-ref0': '1', 'event-channel': '1' },
    { 'ring-ref': '1', 'event-channel': '1', protocol: 'arm-abi' }, { 'ring-ref': '1', 'event-channel': '1', 'multi-queue-num-queues': '2' },
    { 'ring-ref': '99999999999', 'event-channel': '1' },
  ];
  for (const bad of bads) t.throws(() => readRingTransport(keys(bad), 4), TransportError, JSON.stringify(bad));
});

t.test('named-ring transport keys (a netif: two rings, one or two channels)', async (t) => {
  const keys = (o: Record<string, string>) => (k: string) => o[k] ?? null;
  const spec = { ringKeys: ['tx-ring-ref', 'rx-ring-ref'], channelKeys: [['event-channel'], ['event-channel-tx', 'event-channel-rx']] };
  t.same(readNamedRings(keys({ 'tx-ring-ref': '8', 'rx-ring-ref': '9', 'event-channel': '5' }), spec),
    { refs: [8, 9], order: 0, port: 5, ports: [5], protocol: 'x86_64-abi' });
  t.same(readNamedRings(keys({ 'tx-ring-ref': '8', 'rx-ring-ref': '9', 'event-channel-tx': '5', 'event-channel-rx': '6', 'multi-queue-num-queues': '1' }), spec).ports, [5, 6]);
  const bads: Record<string, string>[] = [
    { 'tx-ring-ref': '8', 'event-channel': '5' }, { 'tx-ring-ref': '8', 'rx-ring-ref': '9' },
    { 'tx-ring-ref': '8', 'rx-ring-ref': '9', 'event-channel-tx': '5' }, { 'tx-ring-ref': '8', 'rx-ring-ref': 'nine', 'event-channel': '5' },
    { 'tx-ring-ref': '8', 'rx-ring-ref': '9', 'event-channel': '5', 'multi-queue-num-queues': '4' },
    { 'tx-ring-ref': '8', 'rx-ring-ref': '9', 'event-channel': '5', protocol: 'ppc-abi' },
  ];
  for (const bad of bads) t.throws(() => readNamedRings(keys(bad), spec), TransportError, JSON.stringify(bad));
});

t.test('available() counts what take() would hand out', async (t) => {
  const p = pages(1);
  const ring = new BackRing(p, 12);
  hdr(p)[0] = 5;
  t.equal(ring.available(), 5);
  t.equal(ring.take(2).length, 2);
  t.equal(ring.available(), 3);
  hdr(p)[0] = 1000;
  t.throws(() => ring.available(), RingOverflowError);
});

t.test('blkif codec round trips in both ABIs', async (t) => {
  for (const proto of ['x86_64-abi', 'x86_32-abi'] as const) {
    const segs = [{ gref: 77, first: 1, last: 6 }, { gref: 0xfffffffe, first: 0, last: 7 }];
    const r = decodeRequest(encodeRequest({ op: 1, id: 0x1122334455667788n, sector: 123456789, segments: segs, handle: 51712 }, proto), proto);
    t.same([r.op, r.nrSegments, r.handle, r.sector, r.segments], [1, 2, 51712, 123456789, segs], proto);
    const d = decodeRequest(encodeRequest({ op: 5, id: 1n, sector: 8, nrSectors: 2 ** 40 }, proto), proto);
    t.same([d.sector, d.nrSectors], [8, 2 ** 40]);
    const i = decodeRequest(encodeRequest({ op: 6, id: 1n, indirectOp: 0, nrSegments: 300, indirectGrefs: [5, 6], handle: 3 }, proto), proto);
    t.same([i.indirectOp, i.nrSegments, i.indirectGrefs.slice(0, 3), i.handle], [0, 300, [5, 6, 0], 3]);
    const rsp = decodeResponse(encodeResponse(r.id, 1, -2, proto), proto);
    t.same(rsp, { id: 0x1122334455667788n, op: 1, status: -2 });
  }
  t.equal(encodeRequest({ op: 0, id: 1n }, 'x86_32-abi').length, 108);
  t.equal(new DataView(encodeRequest({ op: 0, id: 0xabn }, 'x86_32-abi').buffer).getUint8(4), 0xab, '32-bit id at offset 4');
});
