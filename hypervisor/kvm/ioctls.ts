// ioctls.ts: KVM ioctl request numbers, capability ids and exit reasons (linux/kvm.h values).

const IOC_NONE = 0, IOC_WRITE = 1, IOC_READ = 2;
const KVMIO = 0xae;
function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
}
const io = (nr: number) => ioc(IOC_NONE, nr, 0);
const iow = (nr: number, size: number) => ioc(IOC_WRITE, nr, size);
const ior = (nr: number, size: number) => ioc(IOC_READ, nr, size);
const iowr = (nr: number, size: number) => ioc(IOC_READ | IOC_WRITE, nr, size);

/** Sizes of the structs the ioctl numbers encode (checked against linux/kvm.h by a test). */
export const KVM_STRUCT_SIZE = {
  kvm_userspace_memory_region: 32,
  kvm_regs: 144,
  kvm_sregs: 312,
  kvm_cpuid2: 8,
  kvm_cpuid_entry2: 40,
  kvm_enable_cap: 104,
  kvm_msr_filter: 392,
  kvm_irq_level: 8,
  kvm_ioeventfd: 64,
  kvm_irqfd: 32,
  kvm_msi: 32,
  kvm_lapic_state: 1024,
  kvm_vcpu_events: 64,
  kvm_msrs: 8,
  kvm_pit_config: 64,
  kvm_irqchip: 520,
  kvm_mp_state: 4,
  /** The legacy 4 KiB buffer; KVM_CAP_XSAVE2 answers a larger size when the guest's state needs one. */
  kvm_xsave: 4096,
} as const;

export const KVM = {
  GET_API_VERSION: io(0x00),
  CREATE_VM: io(0x01),
  CHECK_EXTENSION: io(0x03),
  GET_VCPU_MMAP_SIZE: io(0x04),
  GET_SUPPORTED_CPUID: iowr(0x05, KVM_STRUCT_SIZE.kvm_cpuid2),
  CREATE_VCPU: io(0x41),
  SET_USER_MEMORY_REGION: iow(0x46, KVM_STRUCT_SIZE.kvm_userspace_memory_region),
  SET_TSS_ADDR: io(0x47),
  SET_IDENTITY_MAP_ADDR: iow(0x48, 8),
  CREATE_IRQCHIP: io(0x60),
  IRQ_LINE: iow(0x61, KVM_STRUCT_SIZE.kvm_irq_level),
  GET_IRQCHIP: iowr(0x62, KVM_STRUCT_SIZE.kvm_irqchip),
  SET_IRQCHIP: ior(0x63, KVM_STRUCT_SIZE.kvm_irqchip),
  IRQFD: iow(0x76, KVM_STRUCT_SIZE.kvm_irqfd),
  CREATE_PIT2: iow(0x77, KVM_STRUCT_SIZE.kvm_pit_config),
  IOEVENTFD: iow(0x79, KVM_STRUCT_SIZE.kvm_ioeventfd),
  RUN: io(0x80),
  GET_REGS: ior(0x81, KVM_STRUCT_SIZE.kvm_regs),
  SET_REGS: iow(0x82, KVM_STRUCT_SIZE.kvm_regs),
  GET_SREGS: ior(0x83, KVM_STRUCT_SIZE.kvm_sregs),
  SET_SREGS: iow(0x84, KVM_STRUCT_SIZE.kvm_sregs),
  GET_MSRS: iowr(0x88, KVM_STRUCT_SIZE.kvm_msrs),
  SET_MSRS: iow(0x89, KVM_STRUCT_SIZE.kvm_msrs),
  SET_CPUID2: iow(0x90, KVM_STRUCT_SIZE.kvm_cpuid2),
  GET_LAPIC: ior(0x8e, KVM_STRUCT_SIZE.kvm_lapic_state),
  SET_LAPIC: iow(0x8f, KVM_STRUCT_SIZE.kvm_lapic_state),
  GET_VCPU_EVENTS: ior(0x9f, KVM_STRUCT_SIZE.kvm_vcpu_events),
  SET_VCPU_EVENTS: iow(0xa0, KVM_STRUCT_SIZE.kvm_vcpu_events),
  GET_XSAVE: ior(0xa4, KVM_STRUCT_SIZE.kvm_xsave),
  SET_XSAVE: iow(0xa5, KVM_STRUCT_SIZE.kvm_xsave),
  GET_XSAVE2: ior(0xcf, KVM_STRUCT_SIZE.kvm_xsave),
  SET_MP_STATE: iow(0x99, KVM_STRUCT_SIZE.kvm_mp_state),
  GET_TSC_KHZ: io(0xa3),
  ENABLE_CAP: iow(0xa3, KVM_STRUCT_SIZE.kvm_enable_cap),
  SIGNAL_MSI: iow(0xa5, KVM_STRUCT_SIZE.kvm_msi),
  X86_SET_MSR_FILTER: iow(0xc6, KVM_STRUCT_SIZE.kvm_msr_filter),
} as const;

export const KVM_API_VERSION = 12;

export const KVM_CAP = {
  IRQCHIP: 0,
  USER_MEMORY: 3,
  SET_TSS_ADDR: 4,
  EXT_CPUID: 7,
  IRQFD: 32,
  PIT2: 33,
  IOEVENTFD: 36,
  XEN_HVM: 38,
  VCPU_EVENTS: 41,
  XSAVE: 55,
  GET_TSC_KHZ: 61,
  SYNC_REGS: 74,
  SIGNAL_MSI: 77,
  READONLY_MEM: 81,
  SPLIT_IRQCHIP: 121,
  X2APIC_API: 129,
  IMMEDIATE_EXIT: 136,
  X86_USER_SPACE_MSR: 188,
  X86_MSR_FILTER: 189,
  EXIT_ON_EMULATION_FAILURE: 204,
  XSAVE2: 208,
} as const;

/** kvm_run.internal.suberror values (KVM_INTERNAL_ERROR_*). */
export const KVM_INTERNAL_ERROR = { EMULATION: 1, SIMUL_EX: 2, DELIVERY_EV: 3, UNEXPECTED_EXIT_REASON: 4 } as const;
/** kvm_run.emulation_failure.flags: insn_size/insn_bytes are valid. */
export const KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES = 1n;

export const KVM_EXIT = {
  UNKNOWN: 0,
  EXCEPTION: 1,
  IO: 2,
  HYPERCALL: 3,
  DEBUG: 4,
  HLT: 5,
  MMIO: 6,
  IRQ_WINDOW_OPEN: 7,
  SHUTDOWN: 8,
  FAIL_ENTRY: 9,
  INTR: 10,
  INTERNAL_ERROR: 17,
  SYSTEM_EVENT: 24,
  X86_RDMSR: 29,
  X86_WRMSR: 30,
  MEMORY_FAULT: 39,
} as const;

export const KVM_EXIT_NAME: Record<number, string> = Object.fromEntries(
  Object.entries(KVM_EXIT).map(([k, v]) => [v, k]),
);

export const KVM_MSR_EXIT_REASON = { INVAL: 1 << 0, UNKNOWN: 1 << 1, FILTER: 1 << 2 } as const;
export const KVM_MSR_FILTER = { READ: 1 << 0, WRITE: 1 << 1, DEFAULT_ALLOW: 0 } as const;
export const KVM_SYNC_X86 = { REGS: 1 << 0, SREGS: 1 << 1, EVENTS: 1 << 2 } as const;
export const KVM_EXIT_IO_DIR = { IN: 0, OUT: 1 } as const;
export const KVM_IOEVENTFD_FLAG = { DATAMATCH: 1 << 0, PIO: 1 << 1, DEASSIGN: 1 << 2 } as const;
