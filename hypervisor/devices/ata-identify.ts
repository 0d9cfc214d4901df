// ata-identify.ts: the 512-byte IDENTIFY DEVICE block of an emulated ATA disk (ATA/ATAPI-6 word layout).
import { MAX_MULTIPLE } from './ata-regs.ts';

export const LBA28_MAX = 0x0fffffff;

/** CHS geometry: the usual 16 heads × 63 sectors translation, cylinders capped at 16383. */
export interface Geometry {
  readonly cylinders: number;
  readonly heads: number;
  readonly sectorsPerTrack: number;
}

export function defaultGeometry(sectors: number): Geometry {
  const heads = 16;
  const sectorsPerTrack = 63;
  return { cylinders: Math.max(1, Math.min(16383, Math.floor(sectors / (heads * sectorsPerTrack)))), heads, sectorsPerTrack };
}

export interface IdentifyInput {
  readonly sectors: number;
  readonly serial: string;
  readonly model: string;
  readonly firmware: string;
  readonly geometry: Geometry;
  /** Geometry set by INITIALIZE DEVICE PARAMETERS (words 54–58). */
  readonly current: Geometry;
  /** Sectors per DRQ block for READ/WRITE MULTIPLE; 0 = multiple mode off. */
  readonly multiple: number;
}

/** ATA strings: space-padded, two characters per word with the first in the high byte. */
function putString(b: Uint8Array, word: number, words: number, s: string): void {
  const text = s.padEnd(words * 2, ' ').slice(0, words * 2);
  for (let i = 0; i < words * 2; i++) b[word * 2 + (i ^ 1)] = text.charCodeAt(i) & 0x7f;
}

export function buildIdentify(d: IdentifyInput): Uint8Array {
  const b = new Uint8Array(512);
  const v = new DataView(b.buffer);
  const w = (i: number, x: number): void => v.setUint16(i * 2, x & 0xffff, true);
  const dw = (i: number, x: number): void => { w(i, x); w(i + 1, Math.floor(x / 0x10000)); };
  const g = d.geometry;
  const c = d.current;
  w(0, 0x0040); // fixed disk, not removable
  w(1, g.cylinders);
  w(3, g.heads);
  w(6, g.sectorsPerTrack);
  putString(b, 10, 10, d.serial);
  putString(b, 23, 4, d.firmware);
  putString(b, 27, 20, d.model);
  w(47, 0x8000 | MAX_MULTIPLE);
  w(49, (1 << 9) | (1 << 11)); // LBA supported, IORDY supported; no DMA (PIO only)
  w(50, 0x4000);
  w(51, 0x0200); // obsolete PIO timing: mode 2
  w(53, 0x0003); // words 54–58 and 64–70 are valid
  w(54, c.cylinders);
  w(55, c.heads);
  w(56, c.sectorsPerTrack);
  dw(57, Math.min(c.cylinders * c.heads * c.sectorsPerTrack, 0xffffffff));
  w(59, d.multiple > 0 ? 0x0100 | d.multiple : 0);
  dw(60, Math.min(d.sectors, LBA28_MAX));
  w(64, 0x0003); // PIO modes 3 and 4
  for (const i of [65, 66, 67, 68]) w(i, 120); // cycle times, ns
  w(80, 0x00f0); // ATA-4 to ATA-7
  w(82, (1 << 14) | (1 << 5)); // NOP, write cache
  w(83, 0x4000 | (1 << 13) | (1 << 12) | (1 << 10)); // FLUSH CACHE EXT, FLUSH CACHE, 48-bit
  w(84, 0x4000);
  w(85, (1 << 14) | (1 << 5));
  w(86, (1 << 13) | (1 << 12) | (1 << 10));
  w(87, 0x4000);
  w(93, 0x6001); // device 0 passed diagnostics, as QEMU reports
  dw(100, d.sectors % 0x100000000);
  dw(102, Math.floor(d.sectors / 0x100000000));
  // Word 255: signature A5h and a checksum making the block's byte sum zero.
  b[510] = 0xa5;
  let sum = 0;
  for (let i = 0; i < 511; i++) sum += b[i]!;
  b[511] = (256 - (sum & 0xff)) & 0xff;
  return b;
}
