// ata-drive.ts: one emulated ATA hard disk — command execution and the PIO data-block state machine.
import { ST, ERR, CMD, MAX_MULTIPLE } from './ata-regs.ts';
import { buildIdentify, defaultGeometry, type Geometry } from './ata-identify.ts';
import { SECTOR, type SectorStore } from './sector-store.ts';
import { TF, type Taskfile } from './ata-taskfile.ts';

const READY = ST.DRDY | ST.DSC;

/** A PIO transfer in progress: the current DRQ block sits in the store's buffer. */
interface Transfer {
  readonly write: boolean;
  /** False for IDENTIFY (the data is not from the image). */
  readonly disk: boolean;
  lba: number;
  /** Sectors not yet moved, the current block included. */
  remaining: number;
  /** Sectors per DRQ block (1, or the multiple count). */
  readonly perBlock: number;
  /** Bytes of the current block and the position in it. */
  len: number;
  pos: number;
}

export interface DriveIdentity {
  readonly serial: string;
  readonly model: string;
  readonly firmware: string;
}

export class AtaDrive {
  status: number = READY;
  error = 0x01;
  multiple = 0;
  private writeCache = true;
  private current: Geometry;
  private readonly geometry: Geometry;
  private xfer: Transfer | null = null;
  private readonly words: DataView;

  constructor(
    readonly store: SectorStore,
    private readonly id: DriveIdentity,
    private readonly tf: Taskfile,
    /** Assert INTRQ (the channel gates it with nIEN). */
    private readonly raise: () => void,
  ) {
    this.geometry = defaultGeometry(store.sectors);
    this.current = this.geometry;
    const b = store.buffer;
    this.words = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  identify(): Uint8Array {
    return buildIdentify({ sectors: this.store.sectors, ...this.id, geometry: this.geometry, current: this.current, multiple: this.multiple });
  }

  /** Power-on/soft reset: transfers abort; the multiple setting survives a soft reset. */
  reset(): void {
    this.xfer = null;
    this.status = READY;
    this.error = 0x01; // diagnostic code: passed
  }

  /** BSY while the reset line is held. */
  holdReset(): void {
    this.xfer = null;
    this.status = ST.BSY;
  }

  execute(cmd: number): void {
    const tf = this.tf;
    this.error = 0;
    switch (cmd) {
      case CMD.IDENTIFY:
        this.store.buffer.set(this.identify());
        return this.begin({ write: false, disk: false, lba: 0, remaining: 1, perBlock: 1, len: 0, pos: 0 });
      case CMD.READ_SECTORS: case CMD.READ_SECTORS_NORETRY:
        return this.rw(false, tf.lba28(this.current), tf.count28(), 1);
      case CMD.WRITE_SECTORS: case CMD.WRITE_SECTORS_NORETRY:
        return this.rw(true, tf.lba28(this.current), tf.count28(), 1);
      case CMD.READ_SECTORS_EXT:
        return this.rw(false, tf.lba48(), tf.count48(), 1);
      case CMD.WRITE_SECTORS_EXT:
        return this.rw(true, tf.lba48(), tf.count48(), 1);
      case CMD.READ_MULTIPLE: case CMD.WRITE_MULTIPLE:
      case CMD.READ_MULTIPLE_EXT: case CMD.WRITE_MULTIPLE_EXT: {
        // Multiple mode must have been set up by SET MULTIPLE MODE first.
        if (this.multiple === 0) return this.abort(ERR.ABRT);
        const ext = cmd === CMD.READ_MULTIPLE_EXT || cmd === CMD.WRITE_MULTIPLE_EXT;
        const write = cmd === CMD.WRITE_MULTIPLE || cmd === CMD.WRITE_MULTIPLE_EXT;
        return this.rw(write, ext ? tf.lba48() : tf.lba28(this.current), ext ? tf.count48() : tf.count28(), this.multiple);
      }
      case CMD.SET_MULTIPLE: {
        // 0 turns multiple mode off; otherwise a power of two up to word 47's maximum (as QEMU).
        const n = tf.cur[TF.COUNT]!;
        if (n > MAX_MULTIPLE || (n & (n - 1)) !== 0) return this.abort(ERR.ABRT);
        this.multiple = n;
        return this.done();
      }
      case CMD.READ_VERIFY: case CMD.READ_VERIFY_NORETRY:
        return this.inRange(tf.lba28(this.current), tf.count28()) ? this.done() : this.abort(ERR.IDNF);
      case CMD.READ_VERIFY_EXT:
        return this.inRange(tf.lba48(), tf.count48()) ? this.done() : this.abort(ERR.IDNF);
      case CMD.FLUSH_CACHE: case CMD.FLUSH_CACHE_EXT:
        return this.store.flush() === 0 ? this.done() : this.fail(ERR.ABRT);
      case CMD.INITIALIZE_PARAMS: {
        const heads = (tf.device & 0x0f) + 1;
        const spt = tf.cur[TF.COUNT]!;
        if (spt === 0) return this.abort(ERR.ABRT);
        this.current = { heads, sectorsPerTrack: spt, cylinders: Math.max(1, Math.min(16383, Math.floor(this.store.sectors / (heads * spt)))) };
        return this.done();
      }
      case CMD.SET_FEATURES:
        return this.setFeatures(tf.cur[TF.FEATURE]!, tf.cur[TF.COUNT]!);
      case CMD.CHECK_POWER_MODE:
        tf.cur[TF.COUNT] = 0xff; // active or idle
        return this.done();
      case CMD.STANDBY_IMMEDIATE: case CMD.IDLE_IMMEDIATE:
        return this.done();
      default:
        // NOP (0x00) included: the standard has it abort.
        return this.abort(ERR.ABRT);
    }
  }

  /** One 16-bit data-port read: the next word of a data-in block, or 0 with no DRQ (as QEMU). */
  readWord(): number {
    const x = this.xfer;
    if (x === null || x.write || (this.status & ST.DRQ) === 0) return 0;
    const v = this.words.getUint16(x.pos, true);
    x.pos += 2;
    if (x.pos === x.len) this.blockDone(x);
    return v;
  }

  writeWord(v: number): void {
    const x = this.xfer;
    if (x === null || !x.write || (this.status & ST.DRQ) === 0) return;
    this.words.setUint16(x.pos, v, true);
    x.pos += 2;
    if (x.pos === x.len) this.blockDone(x);
  }

  private setFeatures(feature: number, count: number): void {
    switch (feature) {
      case 0x02: this.writeCache = true; return this.done();
      case 0x82: this.writeCache = false; return this.done();
      case 0x03: {
        // Set transfer mode: PIO default (00000xxx) or PIO flow-control modes 0–4 (00001xxx); no DMA.
        const ok = (count >> 3) === 0 || ((count >> 3) === 1 && (count & 7) <= 4);
        return ok ? this.done() : this.abort(ERR.ABRT);
      }
      case 0x66: case 0xcc: return this.done(); // (no) reverting to defaults on reset
      default: return this.abort(ERR.ABRT);
    }
  }

  private inRange(lba: number, count: number): boolean {
    return lba >= 0 && lba + count <= this.store.sectors;
  }

  private rw(write: boolean, lba: number, count: number, perBlock: number): void {
    // The whole request is checked up front (as QEMU does): nothing moves if any of it is outside.
    if (!this.inRange(lba, count)) return this.abort(ERR.IDNF);
    if (write && this.store.readonly) return this.abort(ERR.ABRT);
    this.begin({ write, disk: true, lba, remaining: count, perBlock, len: 0, pos: 0 });
  }

  /** Start the first DRQ block: data-in interrupts when it is ready, data-out waits silently. */
  private begin(x: Transfer): void {
    this.xfer = x;
    if (x.write) {
      this.openBlock(x);
      this.status = READY | ST.DRQ;
    } else {
      this.loadBlock(x);
    }
  }

  private openBlock(x: Transfer): void {
    x.len = Math.min(x.perBlock, x.remaining) * SECTOR;
    x.pos = 0;
  }

  /** Read the next block from the image and interrupt; a host error ends the command with UNC. */
  private loadBlock(x: Transfer): void {
    this.openBlock(x);
    if (x.disk && this.store.read(x.lba, x.len / SECTOR) !== 0) return this.fail(ERR.UNC, false);
    this.status = READY | ST.DRQ;
    this.raise();
  }

  private blockDone(x: Transfer): void {
    const n = x.len / SECTOR;
    if (x.write) {
      if (this.store.write(x.lba, n) !== 0) return this.fail(ERR.ABRT);
      if (!this.writeCache && this.store.flush() !== 0) return this.fail(ERR.ABRT);
    }
    x.lba += n;
    x.remaining -= n;
    if (x.remaining === 0) {
      this.xfer = null;
      this.status = READY;
      // PIO data-in ends silently after its last block; data-out interrupts when it is stored.
      if (x.write) this.raise();
      return;
    }
    if (x.write) {
      this.openBlock(x);
      this.status = READY | ST.DRQ;
      this.raise();
    } else {
      this.loadBlock(x);
    }
  }

  private done(): void {
    this.xfer = null;
    this.status = READY;
    this.raise();
  }

  /** The command was refused (bad command or parameters, out-of-range address). */
  private abort(error: number): void {
    this.xfer = null;
    this.error = error;
    this.status = ST.DRDY | ST.ERR;
    this.raise();
  }

  /** The host failed the I/O: a write or flush that could not be stored is a device fault. */
  private fail(error: number, deviceFault = true): void {
    this.xfer = null;
    this.error = error;
    this.status = ST.DRDY | ST.ERR | (deviceFault ? ST.DF : 0);
    this.raise();
  }
}
