// ata-taskfile.ts: the shared command-block registers of an ATA channel, with the 48-bit "previous content" (HOB) pairs.
import { CTL, DEV } from './ata-regs.ts';
import type { Geometry } from './ata-identify.ts';

/** Index of the register pairs in `cur`/`prev`: features, count, LBA low, mid, high. */
export const TF = { FEATURE: 0, COUNT: 1, LBA_LOW: 2, LBA_MID: 3, LBA_HIGH: 4 } as const;

/**
 * Both devices on a cable see every command-block write, so the registers belong to the channel.
 * Each write pushes the old value into the "previous" half of a FIFO pair: a 48-bit command
 * reads the high halves from there.
 */
export class Taskfile {
  readonly cur = new Uint8Array(5);
  readonly prev = new Uint8Array(5);
  device = 0;
  /** The device control register (written at 0x3F6). */
  control = 0;

  write(reg: number, v: number): void {
    this.prev[reg] = this.cur[reg]!;
    this.cur[reg] = v & 0xff;
    // Any command-block write clears HOB, so a later read sees the current halves again.
    this.control &= ~CTL.HOB;
  }

  read(reg: number): number {
    return (this.control & CTL.HOB) !== 0 ? this.prev[reg]! : this.cur[reg]!;
  }

  get selected(): 0 | 1 {
    return (this.device & DEV.DEV1) !== 0 ? 1 : 0;
  }

  /** Sector count of a 28-bit command (0 means 256). */
  count28(): number {
    return this.cur[TF.COUNT]! || 256;
  }

  /** Sector count of a 48-bit command (0 means 65536). */
  count48(): number {
    return (this.prev[TF.COUNT]! << 8 | this.cur[TF.COUNT]!) || 65536;
  }

  /** The 28-bit address: LBA from the registers, or CHS translated with `g`; -1 if CHS is invalid. */
  lba28(g: Geometry): number {
    const c = this.cur;
    if ((this.device & DEV.LBA) !== 0) return ((this.device & 0x0f) << 24 | c[TF.LBA_HIGH]! << 16 | c[TF.LBA_MID]! << 8 | c[TF.LBA_LOW]!) >>> 0;
    const cyl = c[TF.LBA_HIGH]! << 8 | c[TF.LBA_MID]!;
    const head = this.device & 0x0f;
    const sector = c[TF.LBA_LOW]!;
    if (sector === 0 || sector > g.sectorsPerTrack || head >= g.heads) return -1;
    return (cyl * g.heads + head) * g.sectorsPerTrack + sector - 1;
  }

  lba48(): number {
    const c = this.cur;
    const p = this.prev;
    const high = p[TF.LBA_HIGH]! * 2 ** 16 + p[TF.LBA_MID]! * 2 ** 8 + p[TF.LBA_LOW]!;
    return high * 2 ** 24 + (c[TF.LBA_HIGH]! << 16 | c[TF.LBA_MID]! << 8 | c[TF.LBA_LOW]!);
  }

  /** The signature a reset leaves (ATA device: count 1, LBA 1/0/0, device 0). */
  setSignature(): void {
    this.cur.set([this.cur[TF.FEATURE]!, 1, 1, 0, 0]);
    this.prev.fill(0);
    this.device = 0;
  }
}
