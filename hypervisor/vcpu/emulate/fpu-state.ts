// fpu-state.ts: the vCPU's x87/SSE registers through its XSAVE image — fetched on first use, stored at commit.
import type { EmuCpu } from './cpu-port.ts';
import { NotEmulated } from './errors.ts';

/** The legacy (FXSAVE) region at the start of the XSAVE image, 64-bit format. */
export const FX = { fcw: 0, fsw: 2, ftw: 4, fop: 6, fip: 8, fdp: 16, mxcsr: 24, mxcsrMask: 28, st: 32, xmm: 160 } as const;
/** XSAVE header: which state components the image holds (bit 0 x87, bit 1 SSE). */
export const XSTATE_BV = 512;
const XSTATE_X87_SSE = 3n;

/** MXCSR_MASK when the image reports 0 (processors before it was defined): DAZ not writable. */
export const DEFAULT_MXCSR_MASK = 0xffbf;

export class FpuState {
  private image: Uint8Array | null = null;
  private view: DataView | null = null;
  private dirty = false;

  constructor(private readonly cpu: EmuCpu) {}

  private v(): DataView {
    if (this.view === null) {
      const image = this.cpu.getXsave();
      if (image === null) throw new NotEmulated('this host does not expose the vCPU FPU state (KVM_CAP_XSAVE)');
      this.image = image;
      this.view = new DataView(image.buffer, image.byteOffset, image.byteLength);
    }
    return this.view;
  }

  get mxcsr(): number {
    return this.v().getUint32(FX.mxcsr, true);
  }

  set mxcsr(value: number) {
    this.v().setUint32(FX.mxcsr, value >>> 0, true);
    this.dirty = true;
  }

  /** The MXCSR bits software may set; the others are reserved (#GP on load). */
  get mxcsrMask(): number {
    const m = this.v().getUint32(FX.mxcsrMask, true);
    return m === 0 ? DEFAULT_MXCSR_MASK : m;
  }

  get fcw(): number { return this.v().getUint16(FX.fcw, true); }
  set fcw(value: number) { this.v().setUint16(FX.fcw, value, true); this.dirty = true; }
  get fsw(): number { return this.v().getUint16(FX.fsw, true); }
  set fsw(value: number) { this.v().setUint16(FX.fsw, value, true); this.dirty = true; }
  /** The abridged tag byte: bit i set = register i holds a value. */
  get ftw(): number { return this.v().getUint8(FX.ftw); }
  set ftw(value: number) { this.v().setUint8(FX.ftw, value); this.dirty = true; }

  /** Clear the last-instruction opcode and pointers (FNINIT). */
  clearLastInstruction(): void {
    const v = this.v();
    v.setUint16(FX.fop, 0, true);
    v.setBigUint64(FX.fip, 0n, true);
    v.setBigUint64(FX.fdp, 0n, true);
    this.dirty = true;
  }

  /** XMM register i (0–15), a private 16-byte copy. */
  xmm(i: number): Uint8Array {
    const at = FX.xmm + i * 16;
    this.v();
    return this.image!.slice(at, at + 16);
  }

  setXmm(i: number, value: Uint8Array): void {
    this.v();
    this.image!.set(value.subarray(0, 16), FX.xmm + i * 16);
    this.dirty = true;
  }

  /** Hand the image back to the vCPU, marking x87 and SSE state as in use so it is loaded. */
  commit(): void {
    if (!this.dirty) return;
    const v = this.v();
    v.setBigUint64(XSTATE_BV, v.getBigUint64(XSTATE_BV, true) | XSTATE_X87_SSE, true);
    this.cpu.setXsave(this.image!);
    this.dirty = false;
  }
}
