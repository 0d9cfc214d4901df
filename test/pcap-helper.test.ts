// pcap-helper.test.ts: the capture checker that net-host.test.ts relies on (test/helpers/pcap.ts)
// really finds what it claims to: a pcap file read back, and good and broken Ethernet/ARP/IPv4/
// ICMP/UDP frames told apart.
import t from 'tap';
import { checkFrame, onesSum, readPcap } from './helpers/pcap.ts';

const SRC = [0x00, 0x16, 0x3e, 0x01, 0x02, 0x03];
const DST = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

function ipv4(proto: number, l4: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + l4.length);
  p.set([0x45, 0, (p.length >> 8) & 0xff, p.length & 0xff, 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1]);
  const c = ~onesSum(p.subarray(0, 20)) & 0xffff;
  p[10] = c >> 8;
  p[11] = c & 0xff;
  p.set(l4, 20);
  return p;
}

function udp(payload: number[], withCsum = true): Uint8Array {
  const u = new Uint8Array(8 + payload.length);
  u.set([0x1b, 0x58, 0x23, 0x28, 0, u.length, 0, 0]);
  u.set(payload, 8);
  if (withCsum) {
    const pseudo = new Uint8Array([10, 0, 0, 2, 10, 0, 0, 1, 0, 17, 0, u.length]);
    const c = ~onesSum(u, onesSum(pseudo)) & 0xffff;
    u[6] = c >> 8;
    u[7] = c & 0xff;
  }
  return u;
}

function icmpEcho(): Uint8Array {
  const m = new Uint8Array(16);
  m.set([8, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
  const c = ~onesSum(m) & 0xffff;
  m[2] = c >> 8;
  m[3] = c & 0xff;
  return m;
}

const eth = (type: number, p: Uint8Array): Uint8Array => new Uint8Array([...DST, ...SRC, type >> 8, type & 0xff, ...p]);
const pad = (f: Uint8Array): Uint8Array => (f.length >= 60 ? f : new Uint8Array([...f, ...new Uint8Array(60 - f.length)]));

t.test('well-formed frames pass, each kind recognised', async (t) => {
  const u = checkFrame(pad(eth(0x0800, ipv4(17, udp([...Array(30).keys()])))));
  t.same(u.problems, []);
  t.match(u, { kind: 'udp', src: '00:16:3e:01:02:03', srcIp: '10.0.0.2', dstIp: '10.0.0.1', udpCsumZero: false, udpPorts: [7000, 9000] });
  t.match(checkFrame(pad(eth(0x0800, ipv4(17, udp([1, 2, 3], false))))), { kind: 'udp', problems: [], udpCsumZero: true }, 'a zero UDP checksum is allowed');
  t.match(checkFrame(pad(eth(0x0800, ipv4(1, icmpEcho())))), { kind: 'icmp', icmpType: 8, problems: [] });
  const arp = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, ...SRC, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1]);
  t.match(checkFrame(pad(eth(0x0806, arp))), { kind: 'arp', arpOp: 1, dstIp: '10.0.0.1', problems: [] });
});

t.test('broken frames are caught', async (t) => {
  const good = (): Uint8Array => pad(eth(0x0800, ipv4(17, udp([...Array(30).keys()]))));
  const f1 = good(); f1[14 + 10]! ^= 1;
  t.match(checkFrame(f1).problems, ['bad IPv4 header checksum']);
  const f2 = good(); f2[14 + 28 + 3]! ^= 0x40;
  t.match(checkFrame(f2).problems, ['bad UDP checksum']);
  const f3 = good(); f3[14 + 20 + 4] = 0; f3[14 + 20 + 5] = 200; // UDP length
  t.match(checkFrame(f3).problems.join(';'), /UDP length 200 but the IP payload is 38/);
  const f4 = good(); f4[14 + 3] = 200; // IP total length beyond the frame
  t.match(checkFrame(f4).problems.join(';'), /IP total length/);
  const f5 = pad(eth(0x0800, ipv4(1, icmpEcho()))); f5[14 + 20 + 9]! ^= 1;
  t.match(checkFrame(f5).problems, ['bad ICMP checksum']);
  const arp = new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, 9, 9, 9, 9, 9, 9, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1]);
  t.match(checkFrame(pad(eth(0x0806, arp))).problems, [/ARP sender MAC/]);
  t.match(checkFrame(new Uint8Array(10)).problems, [/shorter than an Ethernet header/]);
  t.match(checkFrame(good(), 2000).problems, [/captured .* of 2000 bytes/]);
});

t.test('a pcap file is read back (both byte orders), and a truncated one refused', async (t) => {
  const frames = [pad(eth(0x0800, ipv4(1, icmpEcho()))), pad(eth(0x0800, ipv4(17, udp([1, 2, 3]))))];
  for (const le of [true, false]) {
    const parts: number[] = [];
    const u32 = (v: number): void => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, le); parts.push(...b); };
    const u16 = (v: number): void => { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, v, le); parts.push(...b); };
    u32(0xa1b2c3d4); u16(2); u16(4); u32(0); u32(0); u32(262144); u32(1);
    frames.forEach((f, i) => { u32(1000 + i); u32(5); u32(f.length); u32(f.length); parts.push(...f); });
    const p = readPcap(new Uint8Array(parts));
    t.equal(p.linktype, 1);
    t.equal(p.packets.length, 2);
    t.same(p.packets.map((k) => checkFrame(k.data, k.origLen).kind), ['icmp', 'udp'], le ? 'little-endian' : 'big-endian');
    t.equal(p.packets[1]!.tsUs, 1001 * 1e6 + 5);
    t.throws(() => readPcap(new Uint8Array(parts.slice(0, parts.length - 3))), /truncated/);
  }
  t.throws(() => readPcap(new Uint8Array(24)), /bad magic/);
});
