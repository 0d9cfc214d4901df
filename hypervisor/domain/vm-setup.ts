// vm-setup.ts: create and wire a KVM VM for one domain — memory slots, irqchip, MSR trap.
import { KvmVm } from '../kvm/vm.ts';
import { libc, check, mapShared, MFD_CLOEXEC, type NativePointer } from '../../host/libc.ts';
import { KVM_CAP, KVM_MSR_EXIT_REASON, KVM_MSR_FILTER } from '../kvm/ioctls.ts';
import type { KvmSystem } from '../kvm/system.ts';
import { RegionTable, PAGE_SIZE } from '../memory/regions.ts';
import { BalloonMap } from '../memory/balloon.ts';
import { PVKVM_MSR } from '../../abi/cpuid.ts';
import { SPECIAL_BASE_GPA, SPECIAL_PAGES, POOL_PAGES, poolOffsetFor } from '../memory/memfd-layout.ts';

/** Where KVM may put its TSS/identity-map pages: inside the legacy hole, never RAM. */
const TSS_ADDR = 0xfffbd000;

export interface VmMemory {
  readonly vm: KvmVm;
  readonly memFd: number;
  readonly memBytes: number;
  readonly ramBytes: number;
  readonly bytes: Uint8Array;
  readonly ptr: NativePointer;
  readonly hostAddr: bigint;
  /**
   * A second mapping of the RAM part of the file, the one KVM's RAM slot uses: frames the guest
   * gives back are made inaccessible there (PROT_NONE) while the hypervisor's own view stays
   * whole, so a hypercall naming such a frame never faults the hypervisor itself.
   */
  readonly kvmRam: { readonly ptr: NativePointer; readonly addr: bigint };
  readonly regions: RegionTable;
  /** RAM frames the guest gave back (ballooning). */
  readonly balloon: BalloonMap;
  readonly poolOffset: number;
  readonly poolPages: number;
  /**
   * KVM_CAP_EXIT_ON_EMULATION_FAILURE is on: an instruction KVM's emulator lacks exits to the
   * vCPU worker with nothing queued, so pvkvm may complete it (hypervisor/vcpu/emulate/).
   */
  readonly emulationExits: boolean;
}

export function createVm(sys: KvmSystem, name: string, ramBytes: number): VmMemory {
  const vm = new KvmVm(sys.createVmFd());
  let memFd = -1;
  try {
    // Order matters for start-up time: on this host the MSR filter and the first memory slot each
    // wait ~10 ms for an SRCU grace period once an irqchip exists, and ~0.05 ms before it.
    // Only filtered MSRs exit to us; everything else keeps KVM's own behaviour.
    vm.enableCap(KVM_CAP.X86_USER_SPACE_MSR, [KVM_MSR_EXIT_REASON.FILTER]);
    vm.setMsrFilter([{
      flags: KVM_MSR_FILTER.READ | KVM_MSR_FILTER.WRITE,
      base: PVKVM_MSR.values.HYPERCALL_PAGE,
      bitmap: new Uint8Array(1), // bit 0 clear: deny, i.e. exit to user space
    }]);
    const emulationExits = enableEmulationExits(vm);
    const poolOffset = poolOffsetFor(ramBytes);
    const memBytes = poolOffset + POOL_PAGES * PAGE_SIZE;
    memFd = check(libc.memfdCreate(`pvkvm-${name}`, MFD_CLOEXEC), 'memfd_create');
    check(libc.ftruncate(memFd, memBytes), 'ftruncate guest memory');
    const map = mapShared(memFd, memBytes);
    const kvmRam = mapShared(memFd, ramBytes);
    const regions = new RegionTable();
    regions.add({ gpa: 0, size: ramBytes, fileOffset: 0, slot: 0, kind: 'ram' });
    vm.setUserMemoryRegion(0, 0, ramBytes, kvmRam.addr);
    regions.add({ gpa: SPECIAL_BASE_GPA, size: SPECIAL_PAGES * PAGE_SIZE, fileOffset: ramBytes, slot: 1, kind: 'special' });
    vm.setUserMemoryRegion(1, SPECIAL_BASE_GPA, SPECIAL_PAGES * PAGE_SIZE, map.addr + BigInt(ramBytes));
    vm.setTssAddr(TSS_ADDR);
    vm.createIrqchip();
    maskLegacyPics(vm);
    return {
      vm, memFd, memBytes, ramBytes, bytes: map.bytes, ptr: map.ptr, hostAddr: map.addr, regions,
      kvmRam: { ptr: kvmRam.ptr, addr: kvmRam.addr },
      balloon: new BalloonMap(ramBytes / PAGE_SIZE),
      poolOffset, poolPages: POOL_PAGES, emulationExits,
    };
  } catch (err) {
    if (memFd >= 0) libc.close(memFd);
    vm.close();
    throw err;
  }
}

/**
 * Without the capability KVM answers an instruction its emulator lacks at CPL 0 by queueing #UD
 * and exiting; with it, KVM only exits, and the instruction can be completed. Hosts without it
 * (or that refuse it) keep the old behaviour: the exit ends the domain.
 */
function enableEmulationExits(vm: KvmVm): boolean {
  if (vm.checkExtension(KVM_CAP.EXIT_ON_EMULATION_FAILURE) <= 0) return false;
  try {
    vm.enableCap(KVM_CAP.EXIT_ON_EMULATION_FAILURE, [1]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Leave both 8259s masked, as firmware does before it hands over: KVM resets them unprogrammed
 * (vector base 0) with every line open and the boot vCPU's LVT0 in ExtINT mode, so an ISA
 * interrupt (the emulated ATA disk's IRQ 14) would otherwise arrive as vector 6 (#UD) in a guest
 * that routes its devices through the IOAPIC. A guest that programs the PIC (or asks for the
 * callback vector, which reprograms the master) sets its own mask.
 */
function maskLegacyPics(vm: KvmVm): void {
  for (const chipId of [0, 1]) {
    const chip = vm.getIrqchip(chipId);
    chip[8 + 2] = 0xff; // kvm_pic_state.imr
    vm.setIrqchip(chip);
  }
}

export function releaseVm(m: VmMemory): void {
  libc.munmap(m.ptr, m.memBytes);
  libc.munmap(m.kvmRam.ptr, m.ramBytes);
  libc.close(m.memFd);
  m.vm.close();
}
