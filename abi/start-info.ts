// start-info.ts: PVH boot — ELF notes, hvm_start_info, module list and memory map (start_info.h).
import { defineConstants, defineStruct } from './layout.ts';

export const XEN_ELFNOTE = defineConstants('Xen ELF note types', 'XEN_ELFNOTE_', {
  INFO: 0, ENTRY: 1, HYPERCALL_PAGE: 2, VIRT_BASE: 3, PADDR_OFFSET: 4, XEN_VERSION: 5,
  GUEST_OS: 6, GUEST_VERSION: 7, LOADER: 8, PAE_MODE: 9, FEATURES: 10, BSD_SYMTAB: 11,
  HV_START_LOW: 12, L1_MFN_VALID: 13, SUSPEND_CANCEL: 14, INIT_P2M: 15, MOD_START_PFN: 16,
  SUPPORTED_FEATURES: 17, PHYS32_ENTRY: 18, PHYS32_RELOC: 19,
}, { notInXen: ['PHYS32_RELOC'] }); // PHYS32_RELOC is newer than 4.17

export const HVM_START = defineConstants('hvm_start_info', 'XEN_HVM_START_', {
  MAGIC_VALUE: 0x336ec578,
});

export const SIF = defineConstants('Start-info flags', 'SIF_', {
  PRIVILEGED: 1 << 0, INITDOMAIN: 1 << 1, MULTIBOOT_MOD: 1 << 2, MOD_START_PFN: 1 << 3,
  VIRT_P2M_4TOOLS: 1 << 4,
});

export const E820 = defineConstants('Memory map entry types (E820/ACPI numbering)', 'XEN_HVM_MEMMAP_TYPE_', {
  RAM: 1, RESERVED: 2, ACPI: 3, NVS: 4, UNUSABLE: 5, DISABLED: 6, PMEM: 7,
});

export const HvmStartInfo = defineStruct('hvm_start_info', 56, [
  ['magic', 0, 'u32'],
  ['version', 4, 'u32'],
  ['flags', 8, 'u32'],
  ['nr_modules', 12, 'u32'],
  ['modlist_paddr', 16, 'u64'],
  ['cmdline_paddr', 24, 'u64'],
  ['rsdp_paddr', 32, 'u64'],
  ['memmap_paddr', 40, 'u64'],
  ['memmap_entries', 48, 'u32'],
  ['reserved', 52, 'u32'],
]);

export const HvmModlistEntry = defineStruct('hvm_modlist_entry', 32, [
  ['paddr', 0, 'u64'],
  ['size', 8, 'u64'],
  ['cmdline_paddr', 16, 'u64'],
  ['reserved', 24, 'u64'],
]);

export const HvmMemmapEntry = defineStruct('hvm_memmap_table_entry', 24, [
  ['addr', 0, 'u64'],
  ['size', 8, 'u64'],
  ['type', 16, 'u32'],
  ['reserved', 20, 'u32'],
]);
