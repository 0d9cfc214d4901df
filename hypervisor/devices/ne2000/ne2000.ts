// ne2000.ts: an NE2000 (DP8390 core, ISA, 0x300/IRQ 9 as QEMU's ne2k_isa) — register pages 0–2,
// remote DMA through the data port, transmit from and receive into the 16 KiB card buffer.
import type { IrqLine } from '../irq-line.ts';
import { splitRead, splitWrite, type PortDevice } from '../io-bus.ts';
import { CardMemory } from './card-memory.ts';
import { accepts } from './rx-filter.ts';
import { ringAvail, ringBounds, ringSpace, storeFrame } from './receive.ts';
import { CR, DCR, ISR, MAX_FRAME, MIN_FRAME, NE2K_ISA, P0, P1, PAGE, PORT, RCR, RD, RSR, TCR, TSR } from './regs.ts';

/** The wire: frames the card sends, and frames waiting for it (taken only while the ring has room). */
export interface NicLink {
  send(frame: Uint8Array): void;
  /** The next waiting frame, or null. */
  take(): Uint8Array | null;
}

/** Largest frame accepted from the wire: 1514 plus a VLAN tag. */
const MAX_RX = MAX_FRAME + 4;

export class Ne2000 implements PortDevice {
  readonly name = 'ne2000';
  readonly mem: CardMemory;
  private cr = CR.STP | CR.RD2;
  private isr: number = ISR.RST;
  private imr = 0;
  private dcr = 0;
  private rcr = 0;
  private tcr = 0;
  private tsr = 0;
  private rsr = 0;
  private ncr = 0;
  private tpsr = 0;
  private tbcr = 0;
  private pstart = 0;
  private pstop = 0;
  private bnry = 0;
  private curr = 0;
  /** RSAR as written, and CRDA, the remote DMA's moving address. */
  private rsar = 0;
  private crda = 0;
  private rbcr = 0;
  private readonly par = new Uint8Array(6);
  private readonly mar = new Uint8Array(8);
  /** Tally counters CNTR0–2: frame alignment errors, CRC errors, missed packets. */
  private readonly tally = new Uint8Array(3);
  /** Frames sent and received, frames dropped for want of ring space (for stats and tests). */
  readonly stats = { tx: 0, rx: 0, missed: 0, txAborted: 0 };

  constructor(
    private readonly irq: IrqLine,
    mac: Uint8Array,
    private readonly link: NicLink | null = null,
    readonly base: number = NE2K_ISA.base,
  ) {
    this.mem = new CardMemory(mac);
  }

  read(port: number, size: number): number {
    const off = port - this.base;
    if (off < PORT.DATA) return splitRead(this.base + PORT.DATA, port, size, (p) => this.readReg(p - this.base));
    if (off < PORT.RESET) return this.dataRead(size);
    // Reading the reset port resets the card (Linux ne.c and QEMU do it this way).
    this.reset();
    return 0;
  }

  write(port: number, size: number, value: number): void {
    const off = port - this.base;
    if (off < PORT.DATA) splitWrite(this.base + PORT.DATA, port, size, value, (p, v) => this.writeReg(p - this.base, v));
    else if (off < PORT.RESET) this.dataWrite(size, value);
    // Reset-port writes only complete the driver's read-modify-write: nothing to do.
  }

  /**
   * Take waiting frames from the link while the ring can hold a full-size one (vCPU loop, before
   * entry). True when the link was found empty: only then may its RX watcher be re-armed, since a
   * frame left waiting for ring space would otherwise wake us over and over for nothing.
   */
  poll(): boolean {
    if (this.link === null) return false;
    while (this.canReceive()) {
      const f = this.link.take();
      if (f === null) return true;
      this.receive(f);
    }
    return false;
  }

  /** Started, and the ring has room for the largest frame. */
  canReceive(): boolean {
    return this.started && ringAvail(this.ring) > ringSpace(MAX_RX);
  }

  /** A frame from the wire: filtered, then stored in the ring (or counted missed on overflow). */
  receive(input: Uint8Array): void {
    if (!this.started || input.length < 14 || input.length > MAX_RX) return;
    if (!accepts(input, this.rcr, this.par, this.mar)) return;
    if ((this.rcr & RCR.MON) !== 0) return this.missed(false);
    let frame = input;
    if (frame.length < MIN_FRAME) {
      // A wire frame is never shorter than 60 bytes: the sender's MAC pads it.
      frame = new Uint8Array(MIN_FRAME);
      frame.set(input);
    }
    const ring = this.ring;
    if (ringBounds(ring) === null || ringSpace(frame.length) >= ringAvail(ring)) return this.missed(true);
    const status = RSR.PRX | ((frame[0]! & 1) !== 0 ? RSR.PHY : 0);
    this.curr = storeFrame(this.mem.buf, ring, frame, status);
    this.rsr = status;
    this.stats.rx++;
    this.raise(ISR.PRX);
  }

  private get started(): boolean {
    return (this.cr & (CR.STP | CR.STA)) === CR.STA;
  }

  private get ring() {
    return { pstart: this.pstart, pstop: this.pstop, bnry: this.bnry, curr: this.curr };
  }

  private reset(): void {
    this.cr = CR.STP | CR.RD2;
    this.isr = ISR.RST;
    this.imr = 0;
    this.tcr = 0;
    this.rbcr = 0;
    this.updateIrq();
  }

  private missed(overflow: boolean): void {
    this.stats.missed++;
    this.count(2);
    if (overflow) this.raise(ISR.OVW);
  }

  /** Tally counters saturate at 0xff; ISR.CNT is set once a counter's MSB is. */
  private count(i: number): void {
    if (this.tally[i]! < 0xff) this.tally[i]!++;
    if ((this.tally[i]! & 0x80) !== 0) this.raise(ISR.CNT);
  }

  private raise(bits: number): void {
    this.isr |= bits;
    this.updateIrq();
  }

  /** The line is the OR of unmasked ISR bits (RST is never an interrupt source). */
  private updateIrq(): void {
    this.irq.set((this.isr & this.imr & 0x7f) !== 0);
  }

  private readReg(off: number): number {
    if (off === P0.CR) return this.cr;
    const page = this.cr >> 6;
    if (page === 0) return this.readPage0(off);
    if (page === 1) return this.readPage1(off);
    if (page === 2) return this.readPage2(off);
    return 0xff; // page 3: RTL8019 configuration, absent on an NE2000
  }

  private readPage0(off: number): number {
    switch (off) {
      case P0.CLDA0: return 0;
      case P0.CLDA1: return this.curr;
      case P0.BNRY: return this.bnry;
      case P0.TSR: return this.tsr;
      case P0.NCR: return this.ncr;
      case P0.FIFO: return 0;
      case P0.ISR: return this.isr;
      case P0.CRDA0: return this.crda & 0xff;
      case P0.CRDA1: return this.crda >> 8;
      case P0.RSR: return this.rsr;
      case P0.CNTR0: case P0.CNTR1: case P0.CNTR2: {
        // The tallies clear when read.
        const i = off - P0.CNTR0;
        const v = this.tally[i]!;
        this.tally[i] = 0;
        return v;
      }
      default: return 0xff; // 0x0a/0x0b: reserved
    }
  }

  private readPage1(off: number): number {
    if (off >= P1.PAR0 && off < P1.PAR0 + 6) return this.par[off - P1.PAR0]!;
    if (off === P1.CURR) return this.curr;
    return this.mar[off - P1.MAR0]!;
  }

  /** Page 2 reads back the page-0 write-only registers (the datasheet's diagnostic page). */
  private readPage2(off: number): number {
    switch (off) {
      case 0x01: return this.pstart;
      case 0x02: return this.pstop;
      case 0x04: return this.tpsr;
      case 0x05: return this.curr;
      case 0x0c: return this.rcr | 0xc0;
      case 0x0d: return this.tcr | 0xe0;
      case 0x0e: return this.dcr | 0x80;
      case 0x0f: return this.imr | 0x80;
      default: return 0xff;
    }
  }

  private writeReg(off: number, v: number): void {
    if (off === P0.CR) return this.writeCr(v);
    const page = this.cr >> 6;
    if (page === 0) this.writePage0(off, v);
    else if (page === 1) this.writePage1(off, v);
    // Pages 2 and 3 are for diagnostics/configuration: writes are ignored.
  }

  private writePage0(off: number, v: number): void {
    switch (off) {
      case P0.PSTART: this.pstart = v; break;
      case P0.PSTOP: this.pstop = v; break;
      case P0.BNRY: this.bnry = v; break;
      case P0.TPSR: this.tpsr = v; break;
      case P0.TBCR0: this.tbcr = (this.tbcr & 0xff00) | v; break;
      case P0.TBCR1: this.tbcr = (this.tbcr & 0xff) | (v << 8); break;
      case P0.ISR:
        // Writing 1 clears a bit; RST only reflects the stopped state.
        this.isr &= ~(v & 0x7f);
        this.updateIrq();
        break;
      case P0.RSAR0: this.rsar = (this.rsar & 0xff00) | v; this.crda = this.rsar; break;
      case P0.RSAR1: this.rsar = (this.rsar & 0xff) | (v << 8); this.crda = this.rsar; break;
      case P0.RBCR0: this.rbcr = (this.rbcr & 0xff00) | v; break;
      case P0.RBCR1: this.rbcr = (this.rbcr & 0xff) | (v << 8); break;
      case P0.RCR: this.rcr = v & 0x3f; break;
      case P0.TCR: this.tcr = v & 0x1f; break;
      case P0.DCR: this.dcr = v & 0x7f; break;
      case P0.IMR: this.imr = v & 0x7f; this.updateIrq(); break;
    }
  }

  private writePage1(off: number, v: number): void {
    if (off >= P1.PAR0 && off < P1.PAR0 + 6) this.par[off - P1.PAR0] = v;
    else if (off === P1.CURR) this.curr = v;
    else this.mar[off - P1.MAR0] = v;
  }

  private writeCr(v: number): void {
    // STP wins over STA; TXP stays set only while a transmission is in progress (never, here).
    this.cr = v & ~CR.TXP;
    if ((v & CR.STP) !== 0) {
      this.cr &= ~CR.STA;
      this.isr |= ISR.RST;
      return;
    }
    this.isr &= ~ISR.RST;
    const rd = v & RD.MASK;
    if (rd === RD.READ || rd === RD.WRITE) {
      this.crda = this.rsar;
      // A zero-length remote DMA completes at once.
      if (this.rbcr === 0) this.raise(ISR.RDC);
    }
    if ((v & CR.TXP) !== 0 && (v & CR.STA) !== 0) this.transmit();
  }

  private transmit(): void {
    const len = this.tbcr;
    const frame = len >= 14 && len <= MAX_RX ? this.mem.slice(this.tpsr * PAGE, len) : null;
    this.ncr = 0;
    if (frame === null) {
      // Nothing sensible to send (runt, oversize, or outside the buffer): the transmit aborts.
      this.stats.txAborted++;
      this.tsr = TSR.ABT;
      return this.raise(ISR.TXE);
    }
    this.stats.tx++;
    this.tsr = TSR.PTX;
    // Loopback modes (TCR LB1:LB0 ≠ 0) keep the frame off the wire and hand it to our own receiver.
    if ((this.tcr & (TCR.LB0 | TCR.LB1)) !== 0) this.receive(frame);
    else this.link?.send(frame);
    this.raise(ISR.PTX);
  }

  private dataRead(size: number): number {
    if (size === 4) return (this.dataRead(2) | (this.dataRead(2) << 16)) >>> 0;
    if ((this.dcr & DCR.WTS) !== 0) {
      const a = this.crda & ~1;
      const v = this.mem.readByte(a) | (this.mem.readByte(a + 1) << 8);
      this.advance(2);
      return size === 1 ? v & 0xff : v;
    }
    const v = this.mem.readByte(this.crda);
    this.advance(1);
    // A word read from a byte-wide DMA gets one byte; the upper data lines float.
    return size === 1 ? v : v | 0xff00;
  }

  private dataWrite(size: number, value: number): void {
    if (size === 4) {
      this.dataWrite(2, value & 0xffff);
      this.dataWrite(2, value >>> 16);
      return;
    }
    if ((this.dcr & DCR.WTS) !== 0) {
      const a = this.crda & ~1;
      this.mem.writeByte(a, value);
      this.mem.writeByte(a + 1, value >> 8);
      this.advance(2);
    } else {
      this.mem.writeByte(this.crda, value);
      this.advance(1);
    }
  }

  /** CRDA moves on (wrapping from PSTOP to PSTART, as the remote DMA does); RDC when RBCR runs out. */
  private advance(n: number): void {
    this.crda = (this.crda + n) & 0xffff;
    if (this.pstop !== 0 && this.crda === this.pstop * PAGE) this.crda = this.pstart * PAGE;
    if (this.rbcr > n) {
      this.rbcr -= n;
    } else if (this.rbcr !== 0) {
      this.rbcr = 0;
      this.raise(ISR.RDC);
    }
  }
}
