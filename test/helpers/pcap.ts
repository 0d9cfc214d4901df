// pcap.ts: read a classic libpcap capture (what `tcpdump -w` writes) and check the Ethernet
// frames in it: ARP, IPv4 (header checksum, lengths), ICMP (checksum) and UDP (length, checksum
// valid or zero). For tests that capture a vif's TAP device.

export interface PcapPacket {
  readonly tsUs: number;
  /** Length on the wire (the capture may have cut it; see `data.length`). */
  readonly origLen: number;
  readonly data: Uint8Array;
}

export interface Pcap {
  readonly linktype: number;
  readonly snaplen: number;
  readonly packets: PcapPacket[];
}

/** Parse a pcap file (either byte order, µs or ns timestamps). Throws on a malformed file. */
export function readPcap(buf: Uint8Array): Pcap {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 24) throw new Error(`pcap: ${buf.length} bytes is shorter than the file header`);
  const magicBE = dv.getUint32(0, false);
  let le: boolean;
  let nano: boolean;
  if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) { le = false; nano = magicBE === 0xa1b23c4d; }
  else if (magicBE === 0xd4c3b2a1 || magicBE === 0x4d3cb2a1) { le = true; nano = magicBE === 0x4d3cb2a1; }
  else throw new Error(`pcap: bad magic 0x${magicBE.toString(16)} (pcapng is not read here)`);
  const snaplen = dv.getUint32(16, le);
  const linktype = dv.getUint32(20, le) & 0x0fffffff;
  const packets: PcapPacket[] = [];
  let off = 24;
  while (off < buf.length) {
    if (off + 16 > buf.length) throw new Error(`pcap: truncated record header at ${off}`);
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    const origLen = dv.getUint32(off + 12, le);
    if (incl > origLen || incl > Math.max(snaplen, 262144)) throw new Error(`pcap: record at ${off}: caplen ${incl} > len ${origLen} or snaplen`);
    if (off + 16 + incl > buf.length) throw new Error(`pcap: truncated record at ${off}`);
    packets.push({ tsUs: sec * 1e6 + (nano ? frac / 1000 : frac), origLen, data: buf.subarray(off + 16, off + 16 + incl) });
    off += 16 + incl;
  }
  return { linktype, snaplen, packets };
}

export const macString = (b: Uint8Array, at = 0): string =>
  [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** The ones' complement sum of data (16-bit words, big-endian), folded, not inverted. */
export function onesSum(data: Uint8Array, start = 0): number {
  let s = start;
  for (let i = 0; i + 1 < data.length; i += 2) s += (data[i]! << 8) | data[i + 1]!;
  if (data.length & 1) s += data[data.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** What one frame is, as far as the checks below go. */
export interface FrameCheck {
  readonly src: string;
  readonly dst: string;
  /** 'arp', 'icmp', 'udp', 'ipv4' (another protocol), or 'other' (another ethertype). */
  readonly kind: 'arp' | 'icmp' | 'udp' | 'ipv4' | 'other';
  /** Every problem found; empty for a well-formed frame. */
  readonly problems: string[];
  /** For UDP: whether the checksum was 0 (not computed) rather than checked. */
  readonly udpCsumZero?: boolean;
  readonly icmpType?: number;
  readonly arpOp?: number;
  readonly srcIp?: string;
  readonly dstIp?: string;
  readonly udpPorts?: [number, number];
}

const ipString = (b: Uint8Array, at: number): string => [...b.subarray(at, at + 4)].join('.');

/** Check one Ethernet frame (the whole frame must have been captured). */
export function checkFrame(f: Uint8Array, origLen = f.length): FrameCheck {
  const problems: string[] = [];
  if (f.length < 14) return { src: '', dst: '', kind: 'other', problems: [`${f.length} bytes: shorter than an Ethernet header`] };
  if (origLen !== f.length) problems.push(`captured ${f.length} of ${origLen} bytes`);
  if (f.length > 1514) problems.push(`${f.length} bytes: longer than a 1500-byte MTU frame`);
  const dst = macString(f, 0);
  const src = macString(f, 6);
  if (f[6]! & 1) problems.push(`multicast source MAC ${src}`);
  const type = (f[12]! << 8) | f[13]!;
  const p = f.subarray(14);
  if (type === 0x0806) {
    if (p.length < 28) return { src, dst, kind: 'arp', problems: [...problems, `ARP of ${p.length} bytes`] };
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    if (dv.getUint16(0) !== 1 || dv.getUint16(2) !== 0x0800 || p[4] !== 6 || p[5] !== 4) problems.push('ARP is not Ethernet/IPv4');
    const op = dv.getUint16(6);
    if (op !== 1 && op !== 2) problems.push(`ARP op ${op}`);
    if (macString(p, 8) !== src) problems.push(`ARP sender MAC ${macString(p, 8)} is not the frame's source ${src}`);
    return { src, dst, kind: 'arp', problems, arpOp: op, srcIp: ipString(p, 14), dstIp: ipString(p, 24) };
  }
  if (type !== 0x0800) return { src, dst, kind: 'other', problems };
  if (p.length < 20) return { src, dst, kind: 'ipv4', problems: [...problems, `IPv4 of ${p.length} bytes`] };
  const version = p[0]! >> 4;
  const ihl = (p[0]! & 15) * 4;
  const total = (p[2]! << 8) | p[3]!;
  const proto = p[9]!;
  const srcIp = ipString(p, 12);
  const dstIp = ipString(p, 16);
  if (version !== 4) problems.push(`IP version ${version}`);
  if (ihl < 20 || ihl > p.length) problems.push(`IHL ${ihl}`);
  // Frames shorter than 60 bytes are padded: the IP total length may be less than what follows.
  if (total < ihl || total > p.length) problems.push(`IP total length ${total} with ${p.length} bytes after the Ethernet header`);
  else if (total < p.length && f.length > 60) problems.push(`IP total length ${total} but ${p.length} bytes follow (not minimum-frame padding)`);
  if (ihl >= 20 && ihl <= p.length && onesSum(p.subarray(0, ihl)) !== 0xffff) problems.push('bad IPv4 header checksum');
  const flagsFrag = (p[6]! << 8) | p[7]!;
  if ((flagsFrag & 0x3fff) !== 0) problems.push('a fragment');
  const base = { src, dst, srcIp, dstIp };
  if (problems.length) return { ...base, kind: proto === 1 ? 'icmp' : proto === 17 ? 'udp' : 'ipv4', problems };
  const l4 = p.subarray(ihl, total);
  if (proto === 1) {
    if (l4.length < 8) problems.push(`ICMP of ${l4.length} bytes`);
    else if (onesSum(l4) !== 0xffff) problems.push('bad ICMP checksum');
    return { ...base, kind: 'icmp', problems, icmpType: l4[0] };
  }
  if (proto === 17) {
    if (l4.length < 8) return { ...base, kind: 'udp', problems: [...problems, `UDP of ${l4.length} bytes`] };
    const ulen = (l4[4]! << 8) | l4[5]!;
    if (ulen !== l4.length) problems.push(`UDP length ${ulen} but the IP payload is ${l4.length}`);
    const csum = (l4[6]! << 8) | l4[7]!;
    if (csum !== 0) {
      const pseudo = new Uint8Array(12);
      pseudo.set(p.subarray(12, 20), 0);
      pseudo[9] = 17;
      pseudo[10] = l4.length >> 8;
      pseudo[11] = l4.length & 0xff;
      if (onesSum(l4, onesSum(pseudo)) !== 0xffff) problems.push('bad UDP checksum');
    }
    return { ...base, kind: 'udp', problems, udpCsumZero: csum === 0, udpPorts: [(l4[0]! << 8) | l4[1]!, (l4[2]! << 8) | l4[3]!] };
  }
  return { ...base, kind: 'ipv4', problems };
}
