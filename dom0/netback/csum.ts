// csum.ts: fill in the TCP/UDP checksum of a frame a guest sent with NETTXF_csum_blank (checksum
// offload): the receiver — another guest or a host TAP without a vnet header — needs a complete
// checksum. IPv4 only, as that is all netback offers (feature-ipv6-csum-offload = 0).
const ETH_HLEN = 14;
const ETHERTYPE_IPV4 = 0x0800;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

/** One's-complement sum of bytes [from, to) (odd tail padded with zero) added to `sum`. */
function sum16(b: Uint8Array, from: number, to: number, sum: number): number {
  let i = from;
  for (; i + 1 < to; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < to) sum += b[i]! << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Compute the transport checksum of an IPv4 TCP or UDP frame in place, whatever the field held
 * (a partial pseudo-header sum, or garbage). Returns false for frames it cannot checksum (not
 * IPv4 TCP/UDP, a fragment, lengths that do not fit the frame): the caller drops those.
 */
export function fillChecksum(f: Uint8Array): boolean {
  if (f.length < ETH_HLEN + 20 || ((f[12]! << 8) | f[13]!) !== ETHERTYPE_IPV4) return false;
  const ip = ETH_HLEN;
  if (f[ip]! >> 4 !== 4) return false;
  const ihl = (f[ip]! & 0xf) * 4;
  const total = (f[ip + 2]! << 8) | f[ip + 3]!;
  // Fragments other than the first carry no transport header; a first fragment's checksum covers
  // data we do not have.
  if (((f[ip + 6]! & 0x3f) | f[ip + 7]!) !== 0) return false;
  if (ihl < 20 || total < ihl || ip + total > f.length) return false;
  const proto = f[ip + 9]!;
  const l4 = ip + ihl;
  const len = total - ihl;
  const at = proto === PROTO_TCP ? 16 : proto === PROTO_UDP ? 6 : -1;
  if (at < 0 || len < at + 2 || (proto === PROTO_TCP && len < 20) || (proto === PROTO_UDP && len < 8)) return false;
  f[l4 + at] = 0;
  f[l4 + at + 1] = 0;
  let s = sum16(f, ip + 12, ip + 20, 0); // source and destination addresses
  s += proto + len;
  s = sum16(f, l4, l4 + len, s);
  let c = ~fold(s) & 0xffff;
  if (c === 0 && proto === PROTO_UDP) c = 0xffff; // 0 means "no checksum" in UDP
  f[l4 + at] = c >> 8;
  f[l4 + at + 1] = c & 0xff;
  return true;
}

/** True if the frame's IPv4 TCP/UDP checksum verifies (for tests and diagnostics). */
export function checksumOk(frame: Uint8Array): boolean {
  const copy = Uint8Array.from(frame);
  if (!fillChecksum(copy)) return false;
  const l4 = ETH_HLEN + (frame[ETH_HLEN]! & 0xf) * 4;
  const at = frame[ETH_HLEN + 9] === PROTO_TCP ? 16 : 6;
  return copy[l4 + at] === frame[l4 + at] && copy[l4 + at + 1] === frame[l4 + at + 1];
}
