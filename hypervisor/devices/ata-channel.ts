// ata-channel.ts: the primary IDE channel (0x1F0–0x1F7, 0x3F6, IRQ 14) — register decode, drive select, reset, INTRQ.
import type { IrqLine } from './irq-line.ts';
import type { PortDevice } from './io-bus.ts';
import { PRIMARY, REG, ST, CTL, CMD } from './ata-regs.ts';
import { Taskfile } from './ata-taskfile.ts';
import { AtaDrive, type DriveIdentity } from './ata-drive.ts';
import type { SectorStore } from './sector-store.ts';

export interface AtaDriveSpec {
  readonly store: SectorStore;
  readonly identity: DriveIdentity;
}

/**
 * Up to two drives share one task file and one interrupt line. A missing device 1 behaves as in
 * QEMU: its status, alternate status and error read 0, the shared registers read back what was
 * written, and commands sent to it are ignored.
 */
export class AtaChannel implements PortDevice {
  readonly name = 'ata-primary';
  readonly tf = new Taskfile();
  readonly drives: readonly (AtaDrive | null)[];
  /** The control block port (0x3F6: alternate status / device control), registered on its own. */
  readonly control: PortDevice;
  private pending = false;

  constructor(private readonly irq: IrqLine, specs: readonly (AtaDriveSpec | null)[], readonly base: number = PRIMARY.base) {
    if (specs.length === 0 || specs.length > 2) throw new RangeError('an ATA channel has one or two drive positions');
    this.drives = [0, 1].map((i) => {
      const s = specs[i];
      return s === undefined || s === null ? null : new AtaDrive(s.store, s.identity, this.tf, () => this.raise());
    });
    this.tf.setSignature();
    this.control = {
      name: 'ata-primary-control',
      read: (_port, size) => this.widen(this.statusOf(this.drive()), size),
      write: (_port, _size, value) => this.writeControl(value & 0xff),
    };
  }

  /** The selected drive, or null when nothing answers at that position. */
  drive(): AtaDrive | null {
    return this.drives[this.tf.selected] ?? null;
  }

  /** The INTRQ level: pending, not masked by nIEN, and not in reset. */
  get irqAsserted(): boolean {
    return this.pending && (this.tf.control & (CTL.NIEN | CTL.SRST)) === 0;
  }

  read(port: number, size: number): number {
    const reg = port - this.base;
    if (reg === REG.DATA) return this.readData(size);
    let v = 0;
    for (let i = 0; i < size; i++) v |= (reg + i < 8 ? this.readReg(reg + i) : 0xff) << (8 * i);
    return v >>> 0;
  }

  write(port: number, size: number, value: number): void {
    const reg = port - this.base;
    if (reg === REG.DATA) return this.writeData(size, value);
    for (let i = 0; i < size && reg + i < 8; i++) this.writeReg(reg + i, (value >>> (8 * i)) & 0xff);
  }

  /** 16-bit PIO, or 32-bit as two words (low first); byte access to the data port floats (QEMU: 0xFF). */
  private readData(size: number): number {
    const d = this.drive();
    if (size === 1) return 0xff;
    if (d === null) return 0;
    const lo = d.readWord();
    return size === 2 ? lo : (lo | (d.readWord() << 16)) >>> 0;
  }

  private writeData(size: number, value: number): void {
    const d = this.drive();
    if (size === 1 || d === null) return;
    d.writeWord(value & 0xffff);
    if (size === 4) d.writeWord(value >>> 16);
  }

  private readReg(reg: number): number {
    const d = this.drive();
    switch (reg) {
      case REG.ERROR_FEATURE:
        return d === null ? 0 : (this.tf.control & CTL.HOB) !== 0 ? this.tf.prev[0]! : d.error;
      case REG.DEVICE:
        return this.tf.device;
      case REG.STATUS_COMMAND:
        // Reading the status register acknowledges the interrupt; the alternate status does not.
        this.pending = false;
        this.update();
        return this.statusOf(d);
      default:
        return this.tf.read(reg - 1);
    }
  }

  private writeReg(reg: number, v: number): void {
    switch (reg) {
      case REG.DEVICE:
        this.tf.device = v;
        this.tf.control &= ~CTL.HOB;
        return;
      case REG.STATUS_COMMAND:
        return this.command(v);
      default:
        this.tf.write(reg - 1, v);
    }
  }

  private command(cmd: number): void {
    const d = this.drive();
    // Commands to a missing device 1 go nowhere; a busy or mid-transfer device ignores them.
    if (d === null || (d.status & (ST.BSY | ST.DRQ)) !== 0) return;
    this.pending = false;
    this.update();
    if (cmd === CMD.EXECUTE_DIAGNOSTIC) return this.diagnostic();
    d.execute(cmd);
  }

  /** EXECUTE DEVICE DIAGNOSTIC runs on both devices whichever is selected; device 0 reports. */
  private diagnostic(): void {
    for (const d of this.drives) d?.reset();
    this.tf.setSignature();
    this.raise();
  }

  private writeControl(v: number): void {
    const was = this.tf.control;
    this.tf.control = v;
    if ((v & CTL.SRST) !== 0 && (was & CTL.SRST) === 0) {
      // Reset asserted: drives go busy, transfers and the pending interrupt are dropped.
      for (const d of this.drives) d?.holdReset();
      this.pending = false;
    } else if ((v & CTL.SRST) === 0 && (was & CTL.SRST) !== 0) {
      // Reset released: done at once, signature in the task file, no interrupt.
      for (const d of this.drives) d?.reset();
      this.tf.setSignature();
    }
    this.update();
  }

  private statusOf(d: AtaDrive | null): number {
    return d === null ? 0 : d.status;
  }

  private widen(byte: number, size: number): number {
    let v = byte;
    for (let i = 1; i < size; i++) v |= 0xff << (8 * i);
    return v >>> 0;
  }

  private raise(): void {
    this.pending = true;
    this.update();
  }

  private update(): void {
    this.irq.set(this.irqAsserted);
  }
}
