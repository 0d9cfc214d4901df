/*
 * emu-sse: a guest built as ordinary x86-64 code (-msse2, GCC -O2) computing with float, double
 * and integer vectors in kernel mode, where every SSE instruction runs in pvkvm's emulator. It
 * prints bit patterns that test/emulate-guests.test.ts recomputes on the host, and checks the
 * faults SSE code can take: #XM for an unmasked exception, #GP for a misaligned MOVAPS, #NM, and
 * #PF (with CR2 and the error code) for an operand nothing maps.
 */
#include <pvkvm/pvkvm.h>

/* These instructions must run at CPL 0, where this host's KVM emulates them and pvkvm completes what it cannot. */
PVKVM_SDK_MODE(kernel);

void sse_enable(void);

#define N 64
static volatile int vn = 100;
static volatile float va = 1.5f;
static volatile double vd = 2.0;
static float x[N], y[N];
static int ia[N], ib[N], ic[N];

static uint32_t fbits(float f) { union { float f; uint32_t u; } c = {.f = f}; return c.u; }
static uint64_t dbits(double d) { union { double d; uint64_t u; } c = {.d = d}; return c.u; }

/* FNV-1a over bytes, in integer code. */
static uint32_t fnv(const void *p, size_t n) {
  const uint8_t *b = p;
  uint32_t h = 0x811c9dc5u;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x01000193u;
  return h;
}

__attribute__((noinline)) static float harmonic_f(int n) {
  float s = 0;
  for (int i = 1; i <= n; i++) s += 1.0f / (float)i;
  return s;
}

__attribute__((noinline)) static double harmonic_d(int n) {
  double s = 0;
  for (int i = 1; i <= n; i++) s += 1.0 / (double)i;
  return s;
}

/* Element-wise loops GCC vectorizes at -O2 (MULPS/ADDPS, PADDD/PSLLD, shuffles). */
__attribute__((noinline)) static void saxpy(float a) {
  for (int i = 0; i < N; i++) x[i] = (float)i * 0.25f + 1.0f;
  for (int i = 0; i < N; i++) y[i] = (float)(N - i) / 3.0f;
  for (int i = 0; i < N; i++) y[i] = a * x[i] + y[i];
}

__attribute__((noinline)) static void ivec(void) {
  for (int i = 0; i < N; i++) { ia[i] = i * 7 - 100; ib[i] = 1000 - i * i; }
  for (int i = 0; i < N; i++) ic[i] = ia[i] * 3 + ib[i];
}

__attribute__((noinline)) static void conversions(double d, int *t1, int *t2, uint32_t *f) {
  *t1 = (int)(d * 1234.567);
  *t2 = (int)(-d * 1e9 / 3.0);
  *f = fbits((float)(d / 7.0));
}

__attribute__((noinline)) static void minmax(float a, float b, uint32_t *lo, uint32_t *hi) {
  *lo = fbits(a < b ? a : b);
  *hi = fbits(a > b ? a : b);
}

static uint32_t stmxcsr(void) { uint32_t v; __asm__ volatile("stmxcsr %0" : "=m"(v)); return v; }
static void ldmxcsr(uint32_t v) { __asm__ volatile("ldmxcsr %0" : : "m"(v)); }

__attribute__((noinline)) static float third(void) { return 1.0f / (float)vn * 33.0f; }

static volatile unsigned long want_vector = ~0ul, want_skip;
static volatile unsigned traps;
static volatile uint32_t mxcsr_at_xm;
static volatile unsigned long pf_error, pf_cr2;

/* Arm the hook before the faulting instruction: a compiler barrier, since GCC may otherwise move
 * register-only SSE code (which is what faults) ahead of these stores. */
static void expect(unsigned long vector, unsigned long skip) {
  want_vector = vector;
  want_skip = skip;
  __asm__ volatile("" : : : "memory");
}

static int hook(struct pvkvm_trap_frame *f) {
  if (f->vector != want_vector) return 0;
  traps++;
  if (f->vector == 19) __asm__ volatile("stmxcsr %0" : "=m"(mxcsr_at_xm));
  if (f->vector == 7) __asm__ volatile("clts");
  if (f->vector == 14) { pf_error = f->error_code; pf_cr2 = read_cr2(); }
  f->rip += want_skip;
  want_vector = ~0ul;
  return 1;
}

__attribute__((noinline)) static void faults(void) {
  /* Unmasked divide-by-zero: #XM, ZE recorded in MXCSR, destination untouched. */
  ldmxcsr(0x1f80 & ~0x200);
  expect(19, 4);
  float q = 1.0f;
  __asm__ volatile("xorps %%xmm1, %%xmm1\n divss %%xmm1, %0" : "+x"(q) : : "xmm1", "memory"); /* divss: f3 0f 5e c1 */
  CHECK_EQ(traps, 1);
  CHECK_EQ(mxcsr_at_xm & 0x4, 0x4);
  CHECK(q == 1.0f);
  ldmxcsr(0x1f80);

  /* MOVAPS from an address that is not 16-byte aligned: #GP(0). */
  static float buf[8] __attribute__((aligned(16)));
  expect(13, 3);
  __asm__ volatile("movaps (%%rax), %%xmm0" : : "a"(&buf[1]) : "xmm0", "memory"); /* 0f 28 00 */
  CHECK_EQ(traps, 2);

  /* CR0.TS: #NM; the hook clears TS and the instruction runs again. */
  unsigned long cr0;
  expect(7, 0);
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | 8) : "memory");
  float r = 25.0f;
  __asm__ volatile("addss %0, %0" : "+x"(r) : : "memory");
  CHECK_EQ(traps, 3);
  CHECK(r == 50.0f);

  /* MOVSS from an address no page table maps (16 TiB, beyond the runtime's 4 GiB): #PF, error
   * code 0 (a supervisor read of a page that is not present), CR2 the address. */
  const unsigned long unmapped = 1ul << 44;
  expect(14, 4);
  __asm__ volatile("movss (%%rax), %%xmm0" : : "a"(unmapped) : "xmm0", "memory"); /* f3 0f 10 00 */
  CHECK_EQ(traps, 4);
  CHECK_EQ(pf_error, 0);
  CHECK_EQ(pf_cr2, unmapped);
}

int main(void) {
  sse_enable();
  pvkvm_set_trap_hook(hook);
  printf("emu-sse: harmonic_f 0x%08x\n", fbits(harmonic_f(vn)));
  printf("emu-sse: harmonic_d 0x%016lx\n", (unsigned long)dbits(harmonic_d(vn)));
  saxpy(va);
  printf("emu-sse: saxpy 0x%08x\n", fnv(y, sizeof(y)));
  ivec();
  printf("emu-sse: ivec 0x%08x\n", fnv(ic, sizeof(ic)));
  printf("emu-sse: sqrt 0x%016lx 0x%08x\n", (unsigned long)dbits(__builtin_sqrt(vd)), fbits(__builtin_sqrtf((float)vn * 3.0f)));
  int t1, t2;
  uint32_t f;
  conversions(vd, &t1, &t2, &f);
  printf("emu-sse: conv %d %d 0x%08x\n", t1, t2, f);
  uint32_t lo, hi;
  minmax(va, (float)vd, &lo, &hi);
  printf("emu-sse: minmax 0x%08x 0x%08x\n", lo, hi);
  ldmxcsr(0x1f80 | 0x2000); /* round toward -inf */
  uint32_t down = fbits(third());
  ldmxcsr(0x1f80 | 0x4000); /* toward +inf */
  uint32_t up = fbits(third());
  ldmxcsr(0x1f80);
  printf("emu-sse: rounding 0x%08x 0x%08x 0x%08x\n", down, fbits(third()), up);
  CHECK_EQ(stmxcsr() & ~0x3f, 0x1f80);
  faults();
  printf("emu-sse: #XM, #GP, #NM and #PF ok\n");
  test_done();
}
