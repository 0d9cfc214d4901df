/*
 * emu-x87: the x87 control instructions a kernel runs while setting up the FPU — FNOP, FWAIT,
 * FNCLEX, FNINIT, FLDCW (with FNSTCW/FNSTSW to look) — and their faults: #MF for a pending
 * unmasked exception (CR0.NE), #NM with CR0.TS (FWAIT only with CR0.MP too). Built without SSE;
 * the x87 instructions are inline assembly. With `unsupported` on the command line it ends with
 * FLD1, x87 arithmetic that neither KVM here nor pvkvm emulates: the domain must end with a report.
 */
#include <pvkvm/pvkvm.h>

/* These instructions must run at CPL 0, where this host's KVM emulates them and pvkvm completes what it cannot. */
PVKVM_SDK_MODE(kernel);

#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR0_NE (1ul << 5)

static unsigned long read_cr0(void) { unsigned long v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static void write_cr0(unsigned long v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }

static volatile unsigned long want_vector = ~0ul;
static volatile unsigned traps;

/* #MF: clear the exception and retry; #NM: clear CR0.TS and retry. */
static int hook(struct pvkvm_trap_frame *f) {
  if (f->vector != want_vector) return 0;
  traps++;
  if (f->vector == 16) __asm__ volatile("fnclex");
  else __asm__ volatile("clts");
  want_vector = ~0ul;
  return 1;
}

static uint16_t fnstcw(void) { uint16_t v; __asm__ volatile("fnstcw %0" : "=m"(v)); return v; }
static uint16_t fnstsw(void) { uint16_t v; __asm__ volatile("fnstsw %0" : "=m"(v)); return v; }
static void fldcw(uint16_t v) { __asm__ volatile("fldcw %0" : : "m"(v) : "memory"); }

/* Load FCW/FSW through an FXSAVE image: the only way to make an exception pending without x87 arithmetic. */
static void load_words(uint16_t fcw, uint16_t fsw) {
  static uint8_t area[512] __attribute__((aligned(16)));
  __asm__ volatile("fxsave %0" : "=m"(area));
  *(uint16_t *)(area + 0) = fcw;
  *(uint16_t *)(area + 2) = fsw;
  __asm__ volatile("fxrstor %0" : : "m"(area));
}

int main(void) {
  REQUIRE_XEN();
  pvkvm_set_trap_hook(hook);
  write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);

  __asm__ volatile("fninit");
  CHECK_EQ(fnstcw(), 0x037f);
  CHECK_EQ(fnstsw(), 0);
  __asm__ volatile("fnop; fwait; fnop");
  CHECK_EQ(fnstsw(), 0);

  fldcw(0x027f);
  CHECK_EQ(fnstcw(), 0x027f);
  fldcw(0xffff); /* reserved bits read as the CPU keeps them */
  CHECK_EQ(fnstcw(), 0x1f7f);
  fldcw(0x037f);
  printf("emu-x87: fninit, fnop, fwait, fldcw ok\n");

  /* Masked flags: FNCLEX clears them. */
  load_words(0x037f, 0x0024);
  CHECK_EQ(fnstsw() & 0x80ff, 0x0024);
  __asm__ volatile("fnclex");
  CHECK_EQ(fnstsw() & 0x80ff, 0);

  /* Unmasked ZE pending: FWAIT, FNOP and FLDCW deliver #MF first; FNCLEX (no-wait) does not. */
  static const char *const waits[] = {"fwait", "fnop", "fldcw"};
  for (unsigned i = 0; i < 3; i++) {
    load_words(0x037b, 0x0004);
    CHECK_EQ(fnstsw() & 0x80ff, 0x8084);
    want_vector = 16;
    if (i == 0) __asm__ volatile("fwait" : : : "memory");
    else if (i == 1) __asm__ volatile("fnop" : : : "memory");
    else fldcw(0x037f);
    if (!CHECK_EQ(traps, i + 1)) printf("emu-x87: no #MF from %s\n", waits[i]);
  }
  CHECK_EQ(fnstcw(), 0x037f);
  printf("emu-x87: fnclex and #MF ok\n");

  /* CR0.TS: #NM for FNOP; for FWAIT only when CR0.MP is set too. */
  write_cr0(read_cr0() | CR0_TS);
  want_vector = 7;
  __asm__ volatile("fnop" : : : "memory");
  CHECK_EQ(traps, 4);
  write_cr0((read_cr0() | CR0_TS) & ~CR0_MP);
  __asm__ volatile("fwait" : : : "memory");
  CHECK_EQ(traps, 4);
  write_cr0(read_cr0() | CR0_MP);
  want_vector = 7;
  __asm__ volatile("fwait" : : : "memory");
  CHECK_EQ(traps, 5);
  CHECK_EQ(read_cr0() & CR0_TS, 0);
  printf("emu-x87: #NM ok\n");
  if (pvkvm_cmdline_has("unsupported")) {
    console_flush();
    __asm__ volatile("fld1");
    printf("emu-x87: FLD1 ran\n");
  }
  test_done();
}
