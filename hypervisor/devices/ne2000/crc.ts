// crc.ts: the DP8390 multicast hash — the top 6 bits of the Ethernet CRC-32 (MSB-first, no final
// inversion, as QEMU's net_crc32 and Linux's ether_crc compute it) index the 64-bit MAR filter.
const POLY_BE = 0x04c11db6;

export function etherCrc(bytes: Uint8Array, offset = 0, length = 6): number {
  let crc = 0xffffffff;
  for (let i = 0; i < length; i++) {
    let b = bytes[offset + i]!;
    for (let j = 0; j < 8; j++) {
      const carry = ((crc >>> 31) ^ (b & 1)) & 1;
      crc = (crc << 1) >>> 0;
      b >>= 1;
      if (carry !== 0) crc = ((crc ^ POLY_BE) | 1) >>> 0;
    }
  }
  return crc >>> 0;
}

/** The MAR bit a destination address selects: byte index << 3 | bit. */
export const multicastIndex = (bytes: Uint8Array, offset = 0): number => etherCrc(bytes, offset) >>> 26;
