// vcpu.ts: the KVM vCPU fd — KVM_RUN with sync_regs, typed exits, register access without ioctls.
import { libc, check, mapShared, errno, EINTR, EFAULT, HostError } from '../../host/libc.ts';
import { KVM, KVM_EXIT, KVM_SYNC_X86, KVM_STRUCT_SIZE } from './ioctls.ts';
import { RUN, EXIT_IO, EXIT_MMIO, EXIT_MSR, EXIT_MEMORY_FAULT, UNKNOWN_GPA, REG_OFFSET, SREGS, SEG, SYNC, type RegName } from './run-layout.ts';
import type { CpuidEntry } from './system.ts';
import { decodeExit, type VcpuExit } from './exits.ts';

export type { VcpuExit } from './exits.ts';

export type SegName = 'cs' | 'ds' | 'es' | 'fs' | 'gs' | 'ss' | 'tr' | 'ldt';

export interface Segment {
  base: bigint; limit: number; selector: number; type: number; present: number; dpl: number;
  db: number; s: number; l: number; g: number; avl: number; unusable: number;
}

export class KvmVcpu {
  readonly run: Uint8Array;
  /**
   * Drop this thread's kvm_run mapping. Needed before the vCPU can really go: a mapping keeps the
   * vCPU file (and with it the VM) alive in the kernel after its fd is closed. `run` is unusable after.
   */
  readonly unmapRun: () => void;
  private readonly v: DataView;

  constructor(readonly fd: number, mmapSize: number) {
    const map = mapShared(fd, mmapSize);
    this.run = map.bytes;
    this.unmapRun = () => libc.munmap(map.ptr, mmapSize);
    this.v = new DataView(this.run.buffer, this.run.byteOffset, this.run.byteLength);
    // Ask KVM to publish regs and sregs into kvm_run on every exit (no GET_REGS on hot paths).
    this.v.setBigUint64(RUN.kvm_valid_regs, BigInt(KVM_SYNC_X86.REGS | KVM_SYNC_X86.SREGS), true);
  }

  /** Enter the guest until the next exit. EINTR (a kick) is reported as an `intr` exit. */
  enter(): VcpuExit {
    return this.enterRaw() === KVM_EXIT.INTR ? { kind: 'intr' } : this.decodeExit();
  }

  /**
   * Enter the guest and return the raw exit reason, allocating nothing: the hot path checks for
   * hypercall traps with `ioPort()`/`ioIsOut()` and decodes everything else with `decodeExit()`.
   */
  enterRaw(): number {
    // Dirty flags are consumed by KVM on this entry; clear them before the next one.
    const r = libc.ioctlInt(this.fd, KVM.RUN, 0);
    if (this.dirty) {
      this.v.setUint32(RUN.kvm_dirty_regs, 0, true);
      this.dirty = false;
    }
    if (r < 0) {
      const e = errno();
      if (e === EINTR) return KVM_EXIT.INTR;
      // The guest touched memory KVM could not map (a frame it gave back: PROT_NONE). KVM fills
      // kvm_run.memory_fault on kernels that have it; without it the address is unknown.
      if (e === EFAULT) {
        if (this.v.getUint32(RUN.exit_reason, true) !== KVM_EXIT.MEMORY_FAULT) {
          this.v.setUint32(RUN.exit_reason, KVM_EXIT.MEMORY_FAULT, true);
          this.v.setBigUint64(RUN.exit + EXIT_MEMORY_FAULT.gpa, UNKNOWN_GPA, true);
          this.v.setBigUint64(RUN.exit + EXIT_MEMORY_FAULT.size, 0n, true);
        }
        return KVM_EXIT.MEMORY_FAULT;
      }
      throw new HostError('KVM_RUN', e);
    }
    return this.v.getUint32(RUN.exit_reason, true);
  }

  private dirty = false;

  /** Port of the current KVM_EXIT_IO exit. */
  ioPort(): number {
    return this.v.getUint16(RUN.exit + EXIT_IO.port, true);
  }

  ioIsOut(): boolean {
    return this.v.getUint8(RUN.exit + EXIT_IO.direction) === 1;
  }

  set immediateExit(on: boolean) {
    this.v.setUint8(RUN.immediate_exit, on ? 1 : 0);
  }

  /** The typed form of the last exit (see enterRaw). */
  decodeExit(): VcpuExit {
    return decodeExit(this.run, this.v);
  }

  // --- Exit data -----------------------------------------------------------------------------

  /** Data byte(s) of a port-I/O exit, little-endian, as a number. */
  ioData(dataOffset: number, size: number): number {
    if (size === 1) return this.v.getUint8(dataOffset);
    if (size === 2) return this.v.getUint16(dataOffset, true);
    return this.v.getUint32(dataOffset, true);
  }

  setIoData(dataOffset: number, size: number, value: number): void {
    if (size === 1) this.v.setUint8(dataOffset, value);
    else if (size === 2) this.v.setUint16(dataOffset, value, true);
    else this.v.setUint32(dataOffset, value >>> 0, true);
  }

  /** MMIO data bytes (read exits fill them, write exits carry them). */
  mmioData(): Uint8Array {
    return this.run.subarray(RUN.exit + EXIT_MMIO.data, RUN.exit + EXIT_MMIO.data + 8);
  }

  /** Answer an MSR exit: `error` injects #GP; for reads, `data` is the value. */
  completeMsr(error: boolean, data = 0n): void {
    this.v.setUint8(RUN.exit + EXIT_MSR.error, error ? 1 : 0);
    this.v.setBigUint64(RUN.exit + EXIT_MSR.data, data, true);
  }

  // --- Registers through the sync region ------------------------------------------------------

  reg(name: RegName): bigint {
    return this.v.getBigUint64(SYNC.regs + REG_OFFSET[name], true);
  }

  setReg(name: RegName, value: bigint): void {
    this.v.setBigUint64(SYNC.regs + REG_OFFSET[name], BigInt.asUintN(64, value), true);
    this.markDirty(KVM_SYNC_X86.REGS);
  }

  /** Low 32 bits of a register, without BigInt (hot-path helper). */
  reg32(name: RegName): number {
    return this.v.getUint32(SYNC.regs + REG_OFFSET[name], true);
  }

  /** EFER.LMA && CS.L: the vCPU executes 64-bit code. */
  inLongMode64(): boolean {
    return (this.v.getUint32(SYNC.sregs + SREGS.efer, true) & (1 << 10)) !== 0 &&
      this.v.getUint8(SYNC.sregs + SREGS.cs + SEG.l) === 1;
  }

  /** Current privilege level (SS.DPL, as KVM reports it). */
  cpl(): number {
    return this.v.getUint8(SYNC.sregs + SREGS.ss + SEG.dpl);
  }

  sreg(name: 'cr0' | 'cr2' | 'cr3' | 'cr4' | 'efer'): bigint {
    return this.v.getBigUint64(SYNC.sregs + SREGS[name], true);
  }

  seg(name: SegName): Segment {
    return readSegment(this.v, SYNC.sregs + SREGS[name]);
  }

  /** GDTR or IDTR as the last exit exported it. */
  dtable(name: 'gdt' | 'idt'): { base: bigint; limit: number } {
    const o = SYNC.sregs + SREGS[name];
    return { base: this.v.getBigUint64(o, true), limit: this.v.getUint16(o + 8, true) };
  }

  /**
   * Load a segment register through the sync region. KVM then applies every sregs field on the
   * next entry, which is fine: the others still hold what the last exit exported.
   */
  setSeg(name: SegName, s: Segment): void {
    writeSegment(this.v, SYNC.sregs + SREGS[name], s);
    this.markDirty(KVM_SYNC_X86.SREGS);
  }

  setSreg(name: 'cr2', value: bigint): void {
    this.v.setBigUint64(SYNC.sregs + SREGS[name], value, true);
    this.markDirty(KVM_SYNC_X86.SREGS);
  }

  private markDirty(bit: number): void {
    this.v.setUint32(RUN.kvm_dirty_regs, this.v.getUint32(RUN.kvm_dirty_regs, true) | bit, true);
    this.dirty = true;
  }

  /** The register snapshot as exported by the last exit (for crash reports). */
  regsSnapshot(): Record<RegName, bigint> {
    const out = {} as Record<RegName, bigint>;
    for (const k of Object.keys(REG_OFFSET) as RegName[]) out[k] = this.reg(k);
    return out;
  }

  // --- Set-up ioctls (not on hot paths: each costs a vCPU load) -------------------------------

  getSregs(): Uint8Array {
    const b = new Uint8Array(KVM_STRUCT_SIZE.kvm_sregs);
    check(libc.ioctlPtr(this.fd, KVM.GET_SREGS, b), 'KVM_GET_SREGS');
    return b;
  }

  setSregs(b: Uint8Array): void {
    check(libc.ioctlPtr(this.fd, KVM.SET_SREGS, b), 'KVM_SET_SREGS');
  }

  setRegs(regs: Partial<Record<RegName, bigint>>): void {
    const b = new Uint8Array(KVM_STRUCT_SIZE.kvm_regs);
    const v = new DataView(b.buffer);
    v.setBigUint64(REG_OFFSET.rflags, 2n, true);
    for (const [k, val] of Object.entries(regs)) v.setBigUint64(REG_OFFSET[k as RegName], val as bigint, true);
    check(libc.ioctlPtr(this.fd, KVM.SET_REGS, b), 'KVM_SET_REGS');
  }

  /** The whole struct kvm_regs (save/restore; the hot paths use the sync region instead). */
  getRegsBytes(): Uint8Array {
    const b = new Uint8Array(KVM_STRUCT_SIZE.kvm_regs);
    check(libc.ioctlPtr(this.fd, KVM.GET_REGS, b), 'KVM_GET_REGS');
    return b;
  }

  setRegsBytes(b: Uint8Array): void {
    check(libc.ioctlPtr(this.fd, KVM.SET_REGS, b), 'KVM_SET_REGS');
  }

  setCpuid(entries: readonly CpuidEntry[]): void {
    const b = new Uint8Array(8 + entries.length * KVM_STRUCT_SIZE.kvm_cpuid_entry2);
    const v = new DataView(b.buffer);
    v.setUint32(0, entries.length, true);
    entries.forEach((e, i) => {
      const o = 8 + i * 40;
      v.setUint32(o, e.function, true); v.setUint32(o + 4, e.index, true); v.setUint32(o + 8, e.flags, true);
      v.setUint32(o + 12, e.eax, true); v.setUint32(o + 16, e.ebx, true);
      v.setUint32(o + 20, e.ecx, true); v.setUint32(o + 24, e.edx, true);
    });
    check(libc.ioctlPtr(this.fd, KVM.SET_CPUID2, b), 'KVM_SET_CPUID2');
  }

  /** Write one MSR through KVM_SET_MSRS (a set-up path: costs a vCPU ioctl). */
  setMsr(index: number, value: bigint): void {
    this.msrIoctl(KVM.SET_MSRS, 'KVM_SET_MSRS', index, value);
  }

  /** Read one MSR through KVM_GET_MSRS (a set-up path: costs a vCPU ioctl). */
  getMsr(index: number): bigint {
    return this.msrIoctl(KVM.GET_MSRS, 'KVM_GET_MSRS', index, 0n);
  }

  /** One-entry struct kvm_msrs: nmsrs, pad, then {index, reserved, data}. */
  private msrIoctl(req: number, what: string, index: number, value: bigint): bigint {
    const b = new Uint8Array(8 + 16);
    const v = new DataView(b.buffer);
    v.setUint32(0, 1, true);
    v.setUint32(8, index, true);
    v.setBigUint64(16, value, true);
    const n = libc.ioctlPtr(this.fd, req, b);
    if (n !== 1) throw new HostError(`${what} 0x${index.toString(16)}`, n < 0 ? errno() : 0);
    return v.getBigUint64(16, true);
  }

  /**
   * Make the vCPU runnable. With an in-kernel irqchip every vCPU but 0 starts waiting for a
   * startup IPI; VCPUOP_up starts them directly instead.
   */
  setRunnable(): void {
    check(libc.ioctlPtr(this.fd, KVM.SET_MP_STATE, new Uint32Array([0])), 'KVM_SET_MP_STATE');
  }

  getLapic(): Uint8Array {
    const b = new Uint8Array(KVM_STRUCT_SIZE.kvm_lapic_state);
    check(libc.ioctlPtr(this.fd, KVM.GET_LAPIC, b), 'KVM_GET_LAPIC');
    return b;
  }

  setLapic(b: Uint8Array): void {
    check(libc.ioctlPtr(this.fd, KVM.SET_LAPIC, b), 'KVM_SET_LAPIC');
  }

  /** The FPU/SSE/AVX state in KVM's XSAVE layout (`size` from KVM_CAP_XSAVE2, at least 4096). */
  getXsave(size: number): Uint8Array {
    const b = new Uint8Array(Math.max(size, KVM_STRUCT_SIZE.kvm_xsave));
    const req = b.length > KVM_STRUCT_SIZE.kvm_xsave ? KVM.GET_XSAVE2 : KVM.GET_XSAVE;
    check(libc.ioctlPtr(this.fd, req, b), 'KVM_GET_XSAVE');
    return b;
  }

  /** KVM reads as many bytes as KVM_CAP_XSAVE2 says: `b` must come from getXsave. */
  setXsave(b: Uint8Array): void {
    check(libc.ioctlPtr(this.fd, KVM.SET_XSAVE, b), 'KVM_SET_XSAVE');
  }

  getVcpuEvents(): Uint8Array {
    const b = new Uint8Array(KVM_STRUCT_SIZE.kvm_vcpu_events);
    check(libc.ioctlPtr(this.fd, KVM.GET_VCPU_EVENTS, b), 'KVM_GET_VCPU_EVENTS');
    return b;
  }

  setVcpuEvents(b: Uint8Array): void {
    check(libc.ioctlPtr(this.fd, KVM.SET_VCPU_EVENTS, b), 'KVM_SET_VCPU_EVENTS');
  }

  tscKhz(): number {
    return libc.ioctlInt(this.fd, KVM.GET_TSC_KHZ, 0);
  }
}

export function readSegment(v: DataView, o: number): Segment {
  return {
    base: v.getBigUint64(o + SEG.base, true), limit: v.getUint32(o + SEG.limit, true),
    selector: v.getUint16(o + SEG.selector, true), type: v.getUint8(o + SEG.type),
    present: v.getUint8(o + SEG.present), dpl: v.getUint8(o + SEG.dpl), db: v.getUint8(o + SEG.db),
    s: v.getUint8(o + SEG.s), l: v.getUint8(o + SEG.l), g: v.getUint8(o + SEG.g),
    avl: v.getUint8(o + SEG.avl), unusable: v.getUint8(o + SEG.unusable),
  };
}

export function writeSegment(v: DataView, o: number, s: Segment): void {
  v.setBigUint64(o + SEG.base, s.base, true); v.setUint32(o + SEG.limit, s.limit, true);
  v.setUint16(o + SEG.selector, s.selector, true); v.setUint8(o + SEG.type, s.type);
  v.setUint8(o + SEG.present, s.present); v.setUint8(o + SEG.dpl, s.dpl); v.setUint8(o + SEG.db, s.db);
  v.setUint8(o + SEG.s, s.s); v.setUint8(o + SEG.l, s.l); v.setUint8(o + SEG.g, s.g);
  v.setUint8(o + SEG.avl, s.avl); v.setUint8(o + SEG.unusable, s.unusable);
}
