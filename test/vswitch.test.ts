// vswitch.test.ts: the switch's parts without rings — the learning table (bounded, aged), where
// frames go (known unicast, flooding, never back), the token bucket, the TX slot parser's rules
// and the checksum fill.
import t from 'tap';
import { MacTable, macAt, parseMac } from '../dom0/netback/switch/mac-table.ts';
import { VSwitch } from '../dom0/netback/switch/vswitch.ts';
import { TokenBucket } from '../dom0/netback/switch/token-bucket.ts';
import { parseTxPacket } from '../dom0/netback/worker/tx-parse.ts';
import { fillChecksum, checksumOk } from '../dom0/netback/csum.ts';

const f = (dst: string, src: string): Uint8Array => {
  const b = new Uint8Array(60);
  b.set(parseMac(dst), 0); b.set(parseMac(src), 6);
  return b;
};

t.test('MAC table: learns, refreshes, evicts the least recently seen, ages out, forgets a port', async (t) => {
  let now = 0;
  const m = new MacTable<string>(3, 1000, () => now);
  m.learn(1, 'a'); m.learn(2, 'b'); m.learn(3, 'c');
  m.learn(1, 'a'); // refresh: 2 is now the oldest
  m.learn(4, 'd');
  t.equal(m.size, 3, 'bounded');
  t.equal(m.lookup(2), undefined, 'the oldest went first');
  t.equal(m.lookup(1), 'a');
  now = 1500;
  m.learn(5, 'e');
  t.equal(m.lookup(3), undefined, 'aged out');
  t.equal(m.lookup(5), 'e');
  m.forget('e');
  t.equal(m.lookup(5), undefined, 'forgotten with its port');
  t.equal(macAt(parseMac('00:16:3e:01:02:03') as unknown as Uint8Array, 0), 0x00163e010203);
});

t.test('switch: known unicast to its port, broadcast/multicast/unknown flooded, never back to the sender', async (t) => {
  const sw = new VSwitch<string>();
  for (const p of ['a', 'b', 'c']) sw.add(p);
  const A = '00:16:3e:00:00:0a'; const B = '00:16:3e:00:00:0b';
  t.same(sw.forward(f('ff:ff:ff:ff:ff:ff', A), 'a'), ['b', 'c'], 'broadcast floods');
  t.same(sw.forward(f(A, B), 'b'), ['a'], 'A was learnt from its broadcast');
  t.same(sw.forward(f(B, A), 'a'), ['b'], 'B was learnt');
  t.same(sw.forward(f('01:00:5e:00:00:01', A), 'a'), ['b', 'c'], 'multicast floods');
  t.same(sw.forward(f('00:16:3e:00:00:99', A), 'a'), ['b', 'c'], 'unknown unicast floods');
  t.same(sw.forward(f(A, A), 'a'), [], 'a frame to the sender itself goes nowhere');
  sw.forward(f(A, '01:00:00:00:00:01'), 'c');
  t.equal(sw.table.lookup(0x010000000001), undefined, 'a multicast source is not learnt');
  sw.remove('b');
  t.same(sw.forward(f(B, A), 'a'), ['c'], 'a removed port is forgotten: its address floods again');
});

t.test('token bucket: a burst of one frame, then the rate', async (t) => {
  let now = 0;
  const b = new TokenBucket(1000, 1514, () => now);
  t.ok(b.take(1000));
  t.notOk(b.take(1000), 'over the burst');
  t.equal(b.waitMs(1000), 486, '486 bytes short at 1000 B/s');
  now = 486;
  t.ok(b.take(1000));
  now = 100_000;
  t.ok(b.take(1514));
  t.notOk(b.take(1), 'the bucket never holds more than the burst');
});

const slot = (gref: number, offset: number, flags: number, id: number, size: number): Uint8Array => {
  const b = new Uint8Array(12); const v = new DataView(b.buffer);
  v.setUint32(0, gref, true); v.setUint16(4, offset, true); v.setUint16(6, flags, true); v.setUint16(8, id, true); v.setUint16(10, size, true);
  return b;
};
const extra = (type: number, more = false): Uint8Array => { const b = new Uint8Array(12); b[0] = type; b[1] = more ? 1 : 0; return b; };

t.test('TX parser: chains, extras, and every rule of io/netif.h', async (t) => {
  const p = parseTxPacket([slot(8, 100, 4 | 8, 1, 3000), extra(2), slot(9, 0, 4, 2, 1000), slot(10, 0, 0, 3, 500)], 0, 9014);
  t.same(p, { kind: 'packet', ids: [1, null, 2, 3], size: 3000, flags: 12, error: null,
    segs: [{ gref: 8, offset: 100, len: 1500 }, { gref: 9, offset: 0, len: 1000 }, { gref: 10, offset: 0, len: 500 }] }, 'first slot holds size minus the rest');
  t.same(parseTxPacket([slot(8, 0, 4, 1, 3000)], 0, 9014), { kind: 'incomplete' }, 'a chain not yet published waits');
  t.same(parseTxPacket([slot(8, 0, 8, 1, 100)], 0, 9014), { kind: 'incomplete' }, 'an extra not yet published waits');
  const long = Array.from({ length: 19 }, (_, i) => slot(8, 0, i < 18 ? 4 : 0, i, 10));
  t.equal(parseTxPacket(long, 0, 9014).kind, 'fatal', '19 slots');
  t.equal(parseTxPacket([slot(8, 0, 8, 1, 100), extra(2, true), extra(3, true), extra(2, true), extra(3, true), extra(2)], 0, 9014).kind, 'fatal', 'endless extras');
  const err = (slots: Uint8Array[], max = 1514): string | null => { const r = parseTxPacket(slots, 0, max); return r.kind === 'packet' ? r.error : r.kind; };
  t.match(err([slot(8, 0, 0, 1, 13)]), /shorter/);
  t.match(err([slot(8, 0, 0, 1, 1515)]), /exceeds/);
  t.match(err([slot(8, 4000, 0, 1, 200)]), /crosses/);
  t.match(err([slot(8, 0, 4, 1, 100), slot(9, 0, 0, 2, 200)]), /more than the packet/);
  t.match(err([slot(8, 0, 4, 1, 3000), slot(9, 3000, 0, 2, 1500)], 9014), /crosses/, 'a continuation crossing its page');
  t.match(err([slot(8, 0, 8, 1, 100), extra(1)]), /GSO/);
  t.equal(err([slot(8, 0, 8, 1, 100), extra(3)]), null, 'multicast extras are fine');
  const second = parseTxPacket([slot(8, 0, 0, 1, 100), slot(8, 0, 0, 2, 100)], 1, 1514);
  t.same(second.kind === 'packet' ? second.ids : null, [2], 'parses from any start');
});

t.test('checksum fill: IPv4 TCP and UDP; refuses what it cannot checksum', async (t) => {
  const ipv4 = (proto: number, l4: number[]): Uint8Array => {
    const fr = new Uint8Array(14 + 20 + l4.length);
    fr[12] = 8; fr[13] = 0;
    fr.set([0x45, 0, 0, 20 + l4.length, 0, 0, 0, 0, 64, proto, 0, 0, 192, 168, 0, 1, 192, 168, 0, 199], 14);
    fr.set(l4, 34);
    return fr;
  };
  // Verified the receiver's way (RFC 1071): pseudo-header plus segment, checksum included, sums to 0xffff.
  const verify = (fr: Uint8Array): boolean => {
    const len = fr.length - 34;
    let s = fr[23]! + len;
    for (let i = 26; i < 34; i += 2) s += (fr[i]! << 8) | fr[i + 1]!;
    for (let i = 34; i < fr.length; i += 2) s += (fr[i]! << 8) | (fr[i + 1] ?? 0);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return s === 0xffff;
  };
  const tcp = ipv4(6, [0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0x00, 0xff, 0xff, 0, 0]);
  t.ok(fillChecksum(tcp));
  t.ok(verify(tcp), 'TCP verifies');
  t.ok(checksumOk(tcp));
  const udp = ipv4(17, [0, 53, 0, 53, 0, 9, 0x12, 0x34, 0x41]);
  t.ok(fillChecksum(udp));
  t.ok(verify(udp), 'UDP of odd length verifies');
  t.notOk(fillChecksum(ipv4(1, [8, 0, 0, 0, 0, 0, 0, 0])), 'ICMP has its own checksum, never offloaded');
  const frag = ipv4(17, [0, 53, 0, 53, 0, 8, 0, 0]); frag[14 + 6] = 0x20;
  t.notOk(fillChecksum(frag), 'a fragment');
  const short = ipv4(17, [0, 53, 0, 53, 0, 8, 0, 0]); short[14 + 3] = 200;
  t.notOk(fillChecksum(short), 'an IP length past the frame');
});
