// run-layout.ts: byte offsets inside the mmap'ed `struct kvm_run` and the register structs (x86_64).

/** struct kvm_run (header, exit union at 32, sync regs at 304). */
export const RUN = {
  request_interrupt_window: 0,
  immediate_exit: 1,
  exit_reason: 8,
  ready_for_interrupt_injection: 12,
  if_flag: 13,
  flags: 14,
  cr8: 16,
  apic_base: 24,
  exit: 32,
  kvm_valid_regs: 288,
  kvm_dirty_regs: 296,
  sync_regs: 304,
} as const;

/** Exit-union members, relative to RUN.exit. */
export const EXIT_IO = { direction: 0, size: 1, port: 2, count: 4, data_offset: 8 } as const;
export const EXIT_MMIO = { phys_addr: 0, data: 8, len: 16, is_write: 20 } as const;
export const EXIT_MSR = { error: 0, reason: 8, index: 12, data: 16 } as const;
export const EXIT_INTERNAL = { suberror: 0, ndata: 4, data: 8 } as const;
/** The KVM_INTERNAL_ERROR_EMULATION overlay of EXIT_INTERNAL (kvm_run.emulation_failure). */
export const EXIT_EMULATION_FAILURE = { suberror: 0, ndata: 4, flags: 8, insn_size: 16, insn_bytes: 17 } as const;
/** insn_bytes holds at most this many bytes (the architectural maximum instruction length). */
export const EMULATION_FAILURE_MAX_INSN = 15;
export const EXIT_FAIL_ENTRY = { reason: 0, cpu: 8 } as const;
export const EXIT_SYSTEM_EVENT = { type: 0, ndata: 4, data: 8 } as const;
/** kvm_run.memory_fault (KVM_EXIT_MEMORY_FAULT): flags, gpa, size. */
export const EXIT_MEMORY_FAULT = { flags: 0, gpa: 8, size: 16 } as const;
/** The gpa pvkvm records for an -EFAULT from KVM_RUN that came without memory_fault data. */
export const UNKNOWN_GPA = 0xffffffffffffffffn;

/** struct kvm_regs: 18 u64s in this order. */
export const REG_NAMES = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags',
] as const;
export type RegName = (typeof REG_NAMES)[number];
export const REG_OFFSET: Record<RegName, number> = Object.fromEntries(
  REG_NAMES.map((n, i) => [n, i * 8]),
) as Record<RegName, number>;

/** struct kvm_segment (24 bytes). */
export const SEG = {
  base: 0, limit: 8, selector: 12, type: 14, present: 15, dpl: 16, db: 17, s: 18, l: 19, g: 20,
  avl: 21, unusable: 22, size: 24,
} as const;

/** struct kvm_sregs. */
export const SREGS = {
  cs: 0, ds: 24, es: 48, fs: 72, gs: 96, ss: 120, tr: 144, ldt: 168,
  gdt: 192, idt: 208, cr0: 224, cr2: 232, cr3: 240, cr4: 248, cr8: 256, efer: 264, apic_base: 272,
  interrupt_bitmap: 280, size: 312,
} as const;

/** struct kvm_vcpu_events (64 bytes): the pieces pvkvm reads or writes to inject an exception. */
export const VCPU_EVENTS = {
  exception_injected: 0, exception_nr: 1, exception_has_error_code: 2, exception_pending: 3,
  exception_error_code: 4, interrupt_injected: 8, interrupt_nr: 9, interrupt_soft: 10, interrupt_shadow: 11,
  flags: 20, size: 64,
} as const;

/** Sync-region sub-structs: kvm_regs, then kvm_sregs, then kvm_vcpu_events. */
export const SYNC = {
  regs: RUN.sync_regs,
  sregs: RUN.sync_regs + 144,
  events: RUN.sync_regs + 144 + 312,
} as const;

export const EFER_LME = 1n << 8n;
export const EFER_LMA = 1n << 10n;
export const CR0_PE = 1n;
export const CR0_PG = 1n << 31n;
export const CR4_PAE = 1n << 5n;
