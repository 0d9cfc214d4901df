/* traps.c: a 64-bit IDT for the CPU exceptions; an unexpected one is reported and crashes.
 * Vectors 32..255 are not present until pvkvm_set_idt_gate installs one (e.g. evtchn_init). */
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/console.h>
#include <pvkvm/start.h>
#include <pvkvm/traps.h>

struct idt_gate {
  uint16_t offset_lo;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attr; /* P | DPL | type (0xE = 64-bit interrupt gate) */
  uint16_t offset_mid;
  uint32_t offset_hi;
  uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

extern const uint64_t pvkvm_trap_stubs[32];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static pvkvm_trap_hook_t trap_hook;
static int in_trap;

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
    "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved 31",
};

static void set_gate(unsigned v, uint64_t a) {
  idt[v] = (struct idt_gate){
      .offset_lo = (uint16_t)a,
      .selector = PVKVM_SEL_CODE64,
      .ist = 0,
      .type_attr = 0x8e,
      .offset_mid = (uint16_t)(a >> 16),
      .offset_hi = (uint32_t)(a >> 32),
  };
}

void pvkvm_set_idt_gate(unsigned vector, void (*entry)(void)) {
  if (vector >= 32 && vector < 256) set_gate(vector, (uint64_t)(uintptr_t)entry);
}

void pvkvm_traps_init(void) {
  for (int v = 0; v < 32; v++) set_gate(v, pvkvm_trap_stubs[v]);
  struct __attribute__((packed)) { uint16_t limit; uint64_t base; } desc = {
      sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
  __asm__ volatile("lidt %0" : : "m"(desc));
}

pvkvm_trap_hook_t pvkvm_set_trap_hook(pvkvm_trap_hook_t hook) {
  pvkvm_trap_hook_t old = trap_hook;
  trap_hook = hook;
  return old;
}

void pvkvm_trap(struct pvkvm_trap_frame *f) {
  if (trap_hook && !in_trap) {
    in_trap = 1;
    int handled = trap_hook(f);
    in_trap = 0;
    if (handled) return;
  }
  if (in_trap > 1) halt_forever(); /* faulted while reporting a fault */
  in_trap = 2;
  uint64_t cr2 = read_cr2();
  printf("\npvkvm: unexpected exception %lu (%s), error code %#lx\n", f->vector,
         f->vector < 32 ? exception_names[f->vector] : "?", f->error_code);
  printf("  rip %016lx  cs %04lx  rflags %016lx  rsp %016lx  ss %04lx  cr2 %016lx\n", f->rip,
         f->cs, f->rflags, f->rsp, f->ss, cr2);
  printf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
  printf("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
  printf("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
  printf("  r13 %016lx  r14 %016lx  r15 %016lx\n", f->r13, f->r14, f->r15);
  pvkvm_shutdown(SHUTDOWN_crash);
}
