// phys-memory.ts: the one checked guest-physical → host translation over a domain's memfd mapping.
import { RegionTable } from './regions.ts';

export class PhysMemory {
  readonly view: DataView;

  constructor(readonly bytes: Uint8Array, readonly regions: RegionTable) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Offset into `bytes` of [gpa, gpa+len), or -1 when any of it is not guest memory. */
  offsetOf(gpa: number, len: number): number {
    if (!Number.isSafeInteger(gpa) || gpa < 0 || len < 0) return -1;
    const r = this.regions.find(gpa, len);
    return r === null ? -1 : r.fileOffset + (gpa - r.gpa);
  }

  /** True when the whole range is RAM the guest owns (not special or extra pages). */
  isRam(gpa: number, len: number): boolean {
    const r = this.regions.find(gpa, len);
    return r !== null && r.kind === 'ram';
  }

  /** A live view (no copy) of guest-physical bytes; throws on a bad range (host-side bug guard). */
  slice(gpa: number, len: number): Uint8Array {
    const off = this.offsetOf(gpa, len);
    if (off < 0) throw new RangeError(`gpa 0x${gpa.toString(16)}+${len} is not guest memory`);
    return this.bytes.subarray(off, off + len);
  }

  /** Copy-out of guest-physical bytes, or null when out of range. */
  read(gpa: number, len: number): Uint8Array | null {
    const off = this.offsetOf(gpa, len);
    return off < 0 ? null : this.bytes.slice(off, off + len);
  }

  write(gpa: number, data: Uint8Array): boolean {
    const off = this.offsetOf(gpa, data.length);
    if (off < 0) return false;
    this.bytes.set(data, off);
    return true;
  }

  readU64(gpa: number): bigint | null {
    const off = this.offsetOf(gpa, 8);
    return off < 0 ? null : this.view.getBigUint64(off, true);
  }
}
