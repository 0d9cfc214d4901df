// cpu-port.ts: what the emulator needs from a vCPU — a KVM vCPU in the hypervisor, a plain object in tests.
import type { RegName } from '../../kvm/run-layout.ts';
import type { Segment, SegName } from '../../kvm/vcpu.ts';

export type { RegName, Segment, SegName };

export interface EmuCpu {
  reg(name: RegName): bigint;
  setReg(name: RegName, value: bigint): void;
  seg(name: SegName): Segment;
  setSeg(name: SegName, s: Segment): void;
  sreg(name: 'cr0' | 'cr3' | 'cr4' | 'efer'): bigint;
  dtable(name: 'gdt' | 'idt'): { base: bigint; limit: number };
  /** The FPU/SSE state in the XSAVE (standard, non-compacted) layout; null when unavailable. */
  getXsave(): Uint8Array | null;
  setXsave(image: Uint8Array): void;
}
