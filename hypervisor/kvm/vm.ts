// vm.ts: the KVM VM fd — memory slots, vCPU creation, irqchip, MSR filter, eventfd wiring.
import koffi from 'koffi';
import { libc, check } from '../../host/libc.ts';
import { KVM, KVM_STRUCT_SIZE, KVM_MSR_FILTER, KVM_IOEVENTFD_FLAG } from './ioctls.ts';

export interface MsrFilterRange {
  /** KVM_MSR_FILTER_READ / WRITE bits this range applies to. */
  flags: number;
  base: number;
  /** One bit per MSR from `base`: 1 = allow (KVM handles it), 0 = deny (exit to user space). */
  bitmap: Uint8Array;
}

/** Thin wrapper over a VM fd. Usable from any thread that knows the fd number. */
export class KvmVm {
  constructor(readonly fd: number) {}

  /** Map host memory at `hostAddr` into the guest at `gpa`; size 0 deletes the slot. */
  setUserMemoryRegion(slot: number, gpa: bigint | number, size: bigint | number, hostAddr: bigint, flags = 0): void {
    const b = new Uint8Array(KVM_STRUCT_SIZE.kvm_userspace_memory_region);
    const v = new DataView(b.buffer);
    v.setUint32(0, slot, true);
    v.setUint32(4, flags, true);
    v.setBigUint64(8, BigInt(gpa), true);
    v.setBigUint64(16, BigInt(size), true);
    v.setBigUint64(24, hostAddr, true);
    check(libc.ioctlPtr(this.fd, KVM.SET_USER_MEMORY_REGION, b), `KVM_SET_USER_MEMORY_REGION slot ${slot}`);
  }

  createVcpuFd(id: number): number {
    return check(libc.ioctlInt(this.fd, KVM.CREATE_VCPU, id), `KVM_CREATE_VCPU ${id}`);
  }

  setTssAddr(addr: number): void {
    check(libc.ioctlInt(this.fd, KVM.SET_TSS_ADDR, addr), 'KVM_SET_TSS_ADDR');
  }

  setIdentityMapAddr(addr: bigint): void {
    const b = new BigUint64Array([addr]);
    check(libc.ioctlPtr(this.fd, KVM.SET_IDENTITY_MAP_ADDR, b), 'KVM_SET_IDENTITY_MAP_ADDR');
  }

  createIrqchip(): void {
    check(libc.ioctlInt(this.fd, KVM.CREATE_IRQCHIP, 0), 'KVM_CREATE_IRQCHIP');
  }

  /** KVM_CHECK_EXTENSION on the VM fd: some answers (KVM_CAP_XSAVE2's buffer size) are per VM. */
  checkExtension(cap: number): number {
    const r = libc.ioctlInt(this.fd, KVM.CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
  }

  enableCap(cap: number, args: readonly (number | bigint)[] = []): void {
    const b = new Uint8Array(KVM_STRUCT_SIZE.kvm_enable_cap);
    const v = new DataView(b.buffer);
    v.setUint32(0, cap, true);
    args.forEach((a, i) => v.setBigUint64(8 + i * 8, BigInt(a), true));
    check(libc.ioctlPtr(this.fd, KVM.ENABLE_CAP, b), `KVM_ENABLE_CAP ${cap}`);
  }

  /**
   * Install an MSR filter (default allow). Do it right after VM creation: KVM waits for an SRCU
   * grace period here once the VM has an irqchip or memory slots (~10 ms on this host).
   */
  setMsrFilter(ranges: readonly MsrFilterRange[]): void {
    if (ranges.length > 16) throw new Error('at most 16 MSR filter ranges');
    const b = new Uint8Array(KVM_STRUCT_SIZE.kvm_msr_filter);
    const v = new DataView(b.buffer);
    v.setUint32(0, KVM_MSR_FILTER.DEFAULT_ALLOW, true);
    // The struct holds raw pointers to the bitmaps, so they must live in native memory.
    const natives = ranges.map((r) => {
      const p = koffi.alloc('uint8_t', r.bitmap.length);
      new Uint8Array(koffi.view(p, r.bitmap.length) as ArrayBuffer).set(r.bitmap);
      return p;
    });
    try {
      ranges.forEach((r, i) => {
        const o = 8 + i * 24;
        v.setUint32(o, r.flags, true);
        v.setUint32(o + 4, r.bitmap.length * 8, true);
        v.setUint32(o + 8, r.base, true);
        v.setBigUint64(o + 16, koffi.address(natives[i]) as bigint, true);
      });
      check(libc.ioctlPtr(this.fd, KVM.X86_SET_MSR_FILTER, b), 'KVM_X86_SET_MSR_FILTER');
    } finally {
      for (const p of natives) koffi.free(p);
    }
  }

  /** Inject an MSI (here: a fixed interrupt to one LAPIC). VM ioctl: no vCPU load, any thread. */
  signalMsi(addressLo: number, addressHi: number, data: number): void {
    const b = new Uint32Array(8);
    b[0] = addressLo >>> 0; b[1] = addressHi >>> 0; b[2] = data >>> 0;
    check(libc.ioctlPtr(this.fd, KVM.SIGNAL_MSI, b), 'KVM_SIGNAL_MSI');
  }

  /** Read or write the in-kernel PIC/IOAPIC state (struct kvm_irqchip, 520 bytes). */
  getIrqchip(chip: number): Uint8Array {
    const b = new Uint8Array(520);
    new DataView(b.buffer).setUint32(0, chip, true);
    check(libc.ioctlPtr(this.fd, KVM.GET_IRQCHIP, b), 'KVM_GET_IRQCHIP');
    return b;
  }

  setIrqchip(state: Uint8Array): void {
    check(libc.ioctlPtr(this.fd, KVM.SET_IRQCHIP, state), 'KVM_SET_IRQCHIP');
  }

  /**
   * Wire (or with `deassign`, unwire) a 4-byte `out` to `port` carrying `datamatch` to eventfd
   * `fd`: KVM then signals the eventfd in the kernel, without an exit to user space.
   */
  ioeventfdPio(port: number, datamatch: number, fd: number, deassign = false): void {
    const b = new Uint8Array(KVM_STRUCT_SIZE.kvm_ioeventfd);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(datamatch >>> 0), true);
    v.setBigUint64(8, BigInt(port), true);
    v.setUint32(16, 4, true);
    v.setInt32(20, fd, true);
    v.setUint32(24, KVM_IOEVENTFD_FLAG.PIO | KVM_IOEVENTFD_FLAG.DATAMATCH | (deassign ? KVM_IOEVENTFD_FLAG.DEASSIGN : 0), true);
    check(libc.ioctlPtr(this.fd, KVM.IOEVENTFD, b), 'KVM_IOEVENTFD');
  }

  irqLine(irq: number, level: 0 | 1): void {
    const b = new Uint32Array([irq, level]);
    check(libc.ioctlPtr(this.fd, KVM.IRQ_LINE, b), 'KVM_IRQ_LINE');
  }

  close(): void {
    libc.close(this.fd);
  }
}
