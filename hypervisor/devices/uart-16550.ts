// uart-16550.ts: a National 16550A UART (COM1 at 0x3F8, IRQ 4) — registers, FIFOs, interrupt identification.
import type { IrqLine } from './irq-line.ts';
import { splitRead, splitWrite, type PortDevice } from './io-bus.ts';

export const COM1 = { base: 0x3f8, length: 8, irq: 4 } as const;

/** Register bits (names as in the National datasheet and Linux's serial_reg.h). */
export const IER = { RDI: 0x01, THRI: 0x02, RLSI: 0x04, MSI: 0x08 } as const;
export const IIR = { NO_INT: 0x01, MSI: 0x00, THRI: 0x02, RDI: 0x04, RLSI: 0x06, CTI: 0x0c, FIFO: 0xc0 } as const;
export const FCR = { ENABLE: 0x01, CLEAR_RX: 0x02, CLEAR_TX: 0x04, DMA: 0x08 } as const;
export const LCR = { DLAB: 0x80 } as const;
export const MCR = { DTR: 0x01, RTS: 0x02, OUT1: 0x04, OUT2: 0x08, LOOP: 0x10 } as const;
export const LSR = { DR: 0x01, OE: 0x02, PE: 0x04, FE: 0x08, BI: 0x10, THRE: 0x20, TEMT: 0x40, RXFE: 0x80 } as const;
export const MSR = { DCTS: 0x01, DDSR: 0x02, TERI: 0x04, DDCD: 0x08, CTS: 0x10, DSR: 0x20, RI: 0x40, DCD: 0x80 } as const;

const FIFO_SIZE = 16;
const TRIGGER = [1, 4, 8, 14] as const;
/** LSR bits that raise a receiver-line-status interrupt and clear on an LSR read. */
const LSR_ERRORS = LSR.OE | LSR.PE | LSR.FE | LSR.BI;
/** Outside loopback the far end looks like a connected modem (as QEMU reports it). */
const MSR_LINES_IDLE = MSR.DCD | MSR.DSR | MSR.CTS;

/**
 * Where received bytes come from: the UART takes them only while its receiver has room, as
 * QEMU's character back ends do, so host input is paced by the guest instead of overrunning.
 */
export interface UartInput {
  /** Next byte, or -1 when none is waiting. */
  take(): number;
}

/**
 * Timing is not modelled: a written byte leaves at once (THR and the transmitter are empty again
 * before the next guest instruction), and the character timeout (IIR 0xC) is pending whenever
 * the FIFO holds fewer bytes than the trigger level — as if four character times had passed.
 */
export class Uart16550 implements PortDevice {
  readonly name = 'uart-16550';
  private rbr = 0;
  private ier = 0;
  private iir: number = IIR.NO_INT;
  private fcr = 0;
  private lcr = 0;
  private mcr = 0;
  private lsr = LSR.THRE | LSR.TEMT;
  private msr = MSR_LINES_IDLE;
  private scr = 0;
  private divisor = 12; // 9600 baud from the PC's 1.8432 MHz clock
  private thrPending = false;
  private readonly rx = new Uint8Array(FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;

  constructor(
    private readonly irq: IrqLine,
    /** Transmitted bytes (not called in loopback mode). */
    private readonly transmit: (byte: number) => void,
    private readonly input: UartInput | null = null,
    readonly base: number = COM1.base,
  ) {}

  read(port: number, size: number): number {
    return splitRead(this.base + COM1.length, port, size, (p) => this.readReg(p - this.base));
  }

  write(port: number, size: number, value: number): void {
    splitWrite(this.base + COM1.length, port, size, value, (p, v) => this.writeReg(p - this.base, v));
  }

  /** The divisor latch, for tests and diagnostics. */
  get baudDivisor(): number {
    return this.divisor;
  }

  /** Bytes arriving on the serial line: with no room, each is lost and OE is set. */
  receive(bytes: Iterable<number>): void {
    for (const b of bytes) this.receiveByte(b);
    this.update();
  }

  /** Move waiting input into the receiver while it has room (never in loopback: the line is cut). */
  pullInput(): void {
    if (this.input === null || (this.mcr & MCR.LOOP) !== 0) return;
    let got = false;
    while (this.rxRoom()) {
      const b = this.input.take();
      if (b < 0) break;
      this.receiveByte(b);
      got = true;
    }
    if (got) this.update();
  }

  private readReg(reg: number): number {
    const dlab = (this.lcr & LCR.DLAB) !== 0;
    switch (reg) {
      case 0:
        return dlab ? this.divisor & 0xff : this.readRbr();
      case 1:
        return dlab ? this.divisor >>> 8 : this.ier;
      case 2: {
        const v = this.iir;
        // Reading IIR while it reports THRE is how the guest acknowledges that interrupt.
        if ((v & 0x0f) === IIR.THRI) {
          this.thrPending = false;
          this.update();
        }
        return v;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const v = this.lsr;
        if ((v & LSR_ERRORS) !== 0) {
          this.lsr &= ~LSR_ERRORS;
          this.update();
        }
        return v;
      }
      case 6: {
        const v = this.msr;
        if ((v & 0x0f) !== 0) {
          this.msr &= 0xf0;
          this.update();
        }
        return v;
      }
      default:
        return this.scr;
    }
  }

  private writeReg(reg: number, v: number): void {
    const dlab = (this.lcr & LCR.DLAB) !== 0;
    switch (reg) {
      case 0:
        if (dlab) this.divisor = (this.divisor & 0xff00) | v;
        else this.writeThr(v);
        return;
      case 1:
        if (dlab) this.divisor = (this.divisor & 0x00ff) | (v << 8);
        else this.writeIer(v);
        return;
      case 2:
        this.writeFcr(v);
        return;
      case 3:
        this.lcr = v;
        return;
      case 4:
        this.writeMcr(v);
        return;
      case 7:
        this.scr = v;
        return;
      default:
        // LSR and MSR are read-only (their writes are factory-test features).
        return;
    }
  }

  private readRbr(): number {
    let v: number;
    if (this.fifoOn()) {
      if (this.rxCount === 0) return 0;
      v = this.rx[this.rxHead]!;
      this.rxHead = (this.rxHead + 1) % FIFO_SIZE;
      this.rxCount--;
      if (this.rxCount === 0) this.lsr &= ~(LSR.DR | LSR.BI);
    } else {
      v = this.rbr;
      this.lsr &= ~(LSR.DR | LSR.BI);
    }
    // The freed space lets the next waiting host byte in (as QEMU's accept_input does).
    this.pullInput();
    this.update();
    return v;
  }

  private writeThr(v: number): void {
    // The byte goes straight through THR and the shift register, so both are empty again now:
    // writing THR clears a pending THRE interrupt and sending it raises a new one.
    this.thrPending = false;
    if ((this.mcr & MCR.LOOP) !== 0) this.receiveByte(v);
    else this.transmit(v);
    this.lsr |= LSR.THRE | LSR.TEMT;
    this.thrPending = true;
    this.update();
  }

  private writeIer(v: number): void {
    const changed = (this.ier ^ v) & 0x0f;
    this.ier = v & 0x0f;
    // Enabling ETBEI with THR empty raises THRE again even if it was acknowledged before
    // (not in the datasheet, but real parts do it and Windows and Linux's probes rely on it).
    if ((changed & IER.THRI) !== 0) this.thrPending = (this.ier & IER.THRI) !== 0 && (this.lsr & LSR.THRE) !== 0;
    this.update();
  }

  private writeFcr(v: number): void {
    const wasOn = this.fifoOn();
    const on = (v & FCR.ENABLE) !== 0;
    // Switching the FIFOs on or off empties them; the other bits only take with ENABLE set.
    const clearRx = wasOn !== on || (on && (v & FCR.CLEAR_RX) !== 0);
    const clearTx = wasOn !== on || (on && (v & FCR.CLEAR_TX) !== 0);
    if (clearRx) {
      this.rxHead = 0;
      this.rxCount = 0;
      this.lsr &= ~(LSR.DR | LSR.BI);
    }
    if (clearTx) {
      this.lsr |= LSR.THRE | LSR.TEMT;
      this.thrPending = true;
    }
    this.fcr = on ? v & 0xc9 : 0;
    this.update();
    if (clearRx) this.pullInput();
  }

  private writeMcr(v: number): void {
    const before = this.modemInputs();
    const wasLoop = (this.mcr & MCR.LOOP) !== 0;
    this.mcr = v & 0x1f;
    this.setModemInputs(before, this.modemInputs());
    this.update();
    // Leaving loopback reconnects the line: input that waited meanwhile can come in.
    if (wasLoop && (this.mcr & MCR.LOOP) === 0) this.pullInput();
  }

  /** CTS/DSR/RI/DCD as the UART sees them: wired to RTS/DTR/OUT1/OUT2 in loopback. */
  private modemInputs(): number {
    if ((this.mcr & MCR.LOOP) === 0) return MSR_LINES_IDLE;
    const m = this.mcr;
    return ((m & MCR.RTS) !== 0 ? MSR.CTS : 0) | ((m & MCR.DTR) !== 0 ? MSR.DSR : 0) |
      ((m & MCR.OUT1) !== 0 ? MSR.RI : 0) | ((m & MCR.OUT2) !== 0 ? MSR.DCD : 0);
  }

  /** Latch the delta bits: CTS, DSR, DCD on any change; RI only on its trailing edge (TERI). */
  private setModemInputs(before: number, after: number): void {
    const changed = before ^ after;
    let delta = 0;
    if ((changed & MSR.CTS) !== 0) delta |= MSR.DCTS;
    if ((changed & MSR.DSR) !== 0) delta |= MSR.DDSR;
    if ((changed & MSR.DCD) !== 0) delta |= MSR.DDCD;
    if ((before & MSR.RI) !== 0 && (after & MSR.RI) === 0) delta |= MSR.TERI;
    this.msr = after | ((this.msr | delta) & 0x0f);
  }

  private receiveByte(b: number): void {
    if (this.fifoOn()) {
      if (this.rxCount === FIFO_SIZE) {
        // An overrun loses the new character; the FIFO contents survive.
        this.lsr |= LSR.OE;
        return;
      }
      this.rx[(this.rxHead + this.rxCount) % FIFO_SIZE] = b & 0xff;
      this.rxCount++;
    } else {
      // 16450 mode: a character arriving before the previous one was read overwrites it.
      if ((this.lsr & LSR.DR) !== 0) this.lsr |= LSR.OE;
      this.rbr = b & 0xff;
    }
    this.lsr |= LSR.DR;
  }

  private rxRoom(): boolean {
    return this.fifoOn() ? this.rxCount < FIFO_SIZE : (this.lsr & LSR.DR) === 0;
  }

  private fifoOn(): boolean {
    return (this.fcr & FCR.ENABLE) !== 0;
  }

  /**
   * Recompute IIR by priority and drive the IRQ pin, gated by MCR.OUT2 as PCs wire it. The
   * register bit gates it in loopback too (a real part forces the OUT2 pin off there; QEMU does
   * not gate at all), so loopback interrupt tests work with OUT2 set.
   */
  private update(): void {
    const ier = this.ier;
    const trigger = TRIGGER[this.fcr >>> 6]!;
    let id: number = IIR.NO_INT;
    if ((ier & IER.RLSI) !== 0 && (this.lsr & LSR_ERRORS) !== 0) id = IIR.RLSI;
    else if ((ier & IER.RDI) !== 0 && (this.lsr & LSR.DR) !== 0) {
      id = !this.fifoOn() || this.rxCount >= trigger ? IIR.RDI : IIR.CTI;
    } else if ((ier & IER.THRI) !== 0 && this.thrPending) id = IIR.THRI;
    else if ((ier & IER.MSI) !== 0 && (this.msr & 0x0f) !== 0) id = IIR.MSI;
    this.iir = id | (this.fifoOn() ? IIR.FIFO : 0);
    this.irq.set(id !== IIR.NO_INT && (this.mcr & MCR.OUT2) !== 0);
  }
}
