/*
 * emu-mxcsr: the SSE start-up every SSE-using kernel runs — CR4.OSFXSR/OSXMMEXCPT, FNINIT,
 * LDMXCSR — from code built without SSE, then LDMXCSR/STMXCSR semantics: #UD without
 * CR4.OSFXSR, #GP(0) for a reserved bit (MXCSR unchanged), #NM with CR0.TS, every writable bit.
 * On this host KVM's emulator lacks both instructions: pvkvm completes them (or delivers the fault).
 */
#include <pvkvm/pvkvm.h>

/* These instructions must run at CPL 0, where this host's KVM emulates them and pvkvm completes what it cannot. */
PVKVM_SDK_MODE(kernel);

#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR0_NE (1ul << 5)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)

static unsigned long read_cr0(void) { unsigned long v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static void write_cr0(unsigned long v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static unsigned long read_cr4(void) { unsigned long v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static void write_cr4(unsigned long v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

/* The fault a test expects: its vector, and how far to step past the faulting instruction
 * (0: clear CR0.TS and run it again). */
static volatile unsigned long want_vector = ~0ul, want_skip, got_error;
static volatile unsigned traps;

static int hook(struct pvkvm_trap_frame *f) {
  if (f->vector != want_vector) return 0;
  traps++;
  got_error = f->error_code;
  if (want_skip == 0) __asm__ volatile("clts");
  f->rip += want_skip;
  want_vector = ~0ul;
  return 1;
}

/* LDMXCSR/STMXCSR through (%rax): 3 bytes each (0f ae 10 / 0f ae 18), so a hook can skip them. */
static void ldmxcsr(const uint32_t *p) { __asm__ volatile("ldmxcsr (%%rax)" : : "a"(p) : "memory"); }
static uint32_t stmxcsr(void) {
  uint32_t v = 0;
  __asm__ volatile("stmxcsr (%%rax)" : : "a"(&v) : "memory");
  return v;
}

static uint32_t mxcsr_mask(void) {
  static uint8_t area[512] __attribute__((aligned(16)));
  __asm__ volatile("fxsave %0" : "=m"(area));
  uint32_t m = *(uint32_t *)(area + 28);
  return m ? m : 0xffbf;
}

int main(void) {
  REQUIRE_XEN();
  pvkvm_set_trap_hook(hook);
  static const uint32_t dflt = 0x1f80;

  /* Before the OS enables SSE, LDMXCSR is #UD. */
  write_cr4(read_cr4() & ~(CR4_OSFXSR | CR4_OSXMMEXCPT));
  want_vector = 6; want_skip = 3;
  ldmxcsr(&dflt);
  CHECK_EQ(traps, 1);

  /* The start-up sequence. */
  write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
  write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
  __asm__ volatile("fninit");
  ldmxcsr(&dflt);
  CHECK_EQ(stmxcsr(), 0x1f80);
  printf("emu-mxcsr: start-up ok, mxcsr 0x%x\n", stmxcsr());

  /* Every writable bit reads back; rounding, DAZ, FTZ and the sticky flags included. */
  uint32_t mask = mxcsr_mask();
  printf("emu-mxcsr: mxcsr_mask 0x%x\n", mask);
  static const uint32_t values[] = {0x0000, 0x7f80, 0x9fbf, 0x1f80 | 0x3f, 0x6040, 0xffff, 0x3ffff};
  for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    uint32_t v = values[i] & mask;
    ldmxcsr(&v);
    CHECK_EQ(stmxcsr(), v);
  }
  ldmxcsr(&dflt);

  /* A reserved bit: #GP(0), and MXCSR keeps its value. */
  static const uint32_t reserved = 0x80001f80;
  want_vector = 13; want_skip = 3;
  ldmxcsr(&reserved);
  CHECK_EQ(traps, 2);
  CHECK_EQ(got_error, 0);
  CHECK_EQ(stmxcsr(), 0x1f80);
  if (!(mask & 0x10000)) {
    static const uint32_t bit16 = 0x11f80;
    want_vector = 13; want_skip = 3;
    ldmxcsr(&bit16);
    CHECK_EQ(traps, 3);
    traps = 2;
  }

  /* CR0.TS: #NM; the hook clears TS and the instruction runs again. */
  write_cr0(read_cr0() | CR0_TS);
  want_vector = 7; want_skip = 0;
  uint32_t v = stmxcsr();
  CHECK_EQ(traps, 3);
  CHECK_EQ(v, 0x1f80);
  printf("emu-mxcsr: #UD, #GP(0) and #NM delivered as the CPU delivers them\n");
  test_done();
}
