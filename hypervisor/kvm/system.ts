// system.ts: the /dev/kvm system fd — API version, capabilities, supported CPUID, VM creation.
import { libc, check, O_RDWR, O_CLOEXEC, HostError, errno } from '../../host/libc.ts';
import { KVM, KVM_API_VERSION, KVM_STRUCT_SIZE } from './ioctls.ts';
import { PvkvmError } from '../../host/errors.ts';

export interface CpuidEntry {
  function: number;
  index: number;
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

export class KvmSystem {
  private constructor(readonly fd: number) {}

  /** Open /dev/kvm; throws a one-line error naming the problem. */
  static open(path = '/dev/kvm'): KvmSystem {
    const fd = libc.open(path, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
      const e = errno();
      throw new HostError(`cannot open ${path} (pvkvm needs Linux KVM)`, e);
    }
    const sys = new KvmSystem(fd);
    const version = libc.ioctlInt(fd, KVM.GET_API_VERSION, 0);
    if (version !== KVM_API_VERSION) {
      libc.close(fd);
      throw new PvkvmError(`${path}: KVM API version ${version}, pvkvm needs ${KVM_API_VERSION}`);
    }
    return sys;
  }

  checkExtension(cap: number): number {
    const r = libc.ioctlInt(this.fd, KVM.CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
  }

  vcpuMmapSize(): number {
    return check(libc.ioctlInt(this.fd, KVM.GET_VCPU_MMAP_SIZE, 0), 'KVM_GET_VCPU_MMAP_SIZE');
  }

  createVmFd(): number {
    return check(libc.ioctlInt(this.fd, KVM.CREATE_VM, 0), 'KVM_CREATE_VM');
  }

  private cpuidCache: CpuidEntry[] | null = null;

  /** The host's supported CPUID table (constant for the life of the fd, so fetched once). */
  supportedCpuid(): CpuidEntry[] {
    if (this.cpuidCache === null) this.cpuidCache = this.fetchSupportedCpuid();
    return this.cpuidCache.map((e) => ({ ...e }));
  }

  private fetchSupportedCpuid(): CpuidEntry[] {
    const max = 256;
    const buf = new Uint8Array(KVM_STRUCT_SIZE.kvm_cpuid2 + max * KVM_STRUCT_SIZE.kvm_cpuid_entry2);
    const v = new DataView(buf.buffer);
    v.setUint32(0, max, true);
    check(libc.ioctlPtr(this.fd, KVM.GET_SUPPORTED_CPUID, buf), 'KVM_GET_SUPPORTED_CPUID');
    const n = v.getUint32(0, true);
    const out: CpuidEntry[] = [];
    for (let i = 0; i < n; i++) {
      const o = 8 + i * 40;
      out.push({
        function: v.getUint32(o, true), index: v.getUint32(o + 4, true), flags: v.getUint32(o + 8, true),
        eax: v.getUint32(o + 12, true), ebx: v.getUint32(o + 16, true),
        ecx: v.getUint32(o + 20, true), edx: v.getUint32(o + 24, true),
      });
    }
    return out;
  }

  close(): void {
    libc.close(this.fd);
  }
}
