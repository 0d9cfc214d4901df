// foreign-slots.ts: putting another domain's page into this domain's physical address space (a
// grant map for an HVM/PVH guest) — one KVM memory slot per mapped page, backed by the granter's
// memfd mapping in this process, read-only through KVM_MEM_READONLY when the map is.
import { PAGE_SIZE } from '../memory/regions.ts';
import type { RegionTable } from '../memory/regions.ts';
import type { KvmVm } from '../kvm/vm.ts';

/** kvm_userspace_memory_region.flags bit: guest writes exit as MMIO instead of landing. */
const KVM_MEM_READONLY = 1 << 1;
/** Guest-physical addresses must stay below the 46-bit limit the rest of pvkvm uses. */
const GPA_LIMIT = 2 ** 46;

/**
 * Map the host page at `hostAddr` at guest-physical `gpa` (page-aligned). Returns the KVM slot,
 * or null when the range is taken (RAM, special pages, another mapping) or KVM refuses.
 */
export function addForeignSlot(regions: RegionTable, vm: KvmVm, gpa: number, hostAddr: bigint, readonly: boolean): number | null {
  if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa + PAGE_SIZE > GPA_LIMIT) return null;
  const slot = regions.addWithFreeSlot({ gpa, size: PAGE_SIZE, fileOffset: -1, kind: 'foreign' });
  if (slot === null) return null;
  try {
    vm.setUserMemoryRegion(slot, gpa, PAGE_SIZE, hostAddr, readonly ? KVM_MEM_READONLY : 0);
  } catch {
    regions.remove(gpa, slot);
    return null;
  }
  return slot;
}

/** Delete the KVM slot only (the region stays reserved until the guest unmaps the handle). */
export function deleteKvmSlot(vm: KvmVm, slot: number, gpa: number): void {
  vm.setUserMemoryRegion(slot, gpa, 0, 0n);
}

/** Undo addForeignSlot: the page disappears from the guest and the range is free again. */
export function removeForeignSlot(regions: RegionTable, vm: KvmVm, gpa: number, slot: number): void {
  deleteKvmSlot(vm, slot, gpa);
  regions.remove(gpa, slot);
}
