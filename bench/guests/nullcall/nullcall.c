/*
 * nullcall: benchmark of the null hypercall round trip.
 *   n=N     number of calls (default 100000)
 *   raw=1   instead of calling the hypercall page, execute the trap directly
 *           (`out %al, $PVKVM_HYPERCALL_TRAP_PORT` with EAX = 17, xen_version(XENVER_version)),
 *           to compare the page's stub with the bare exit
 * Prints cycles_per_call=... and calls=N (and ns_per_call when the TSC rate is known).
 */
#include <pvkvm/pvkvm.h>

/* The benchmark is the hypervisor's exit path, compared with bench/c/exit-loop.c running the same
 * image: the calls come straight from CPL 0 (raw=1 executes the trap itself), as before the SDK
 * ran guests at CPL 3. guest-speed measures the deprivileged path. */
PVKVM_SDK_MODE(kernel);

static inline long raw_xen_version(void) {
  long ret;
  register unsigned long rdi __asm__("rdi") = XENVER_version;
  register unsigned long rsi __asm__("rsi") = 0;
  __asm__ volatile("outb %%al, %[port]"
                   : "=a"(ret), "+r"(rdi), "+r"(rsi)
                   : "a"(__HYPERVISOR_xen_version), [port] "i"(PVKVM_HYPERCALL_TRAP_PORT)
                   : "memory", "rcx", "r11", "rdx", "r10", "r8");
  return ret;
}

/* Guest TSC rate from the Xen time leaf (base+3, sub-leaf 0, ECX), or 0. */
static uint32_t tsc_khz(void) {
  if (!pvkvm_xen_present()) return 0;
  struct cpuid_regs max = cpuid(pvkvm_xen_cpuid_base, 0);
  if (max.eax < pvkvm_xen_cpuid_base + 3) return 0;
  return cpuid(pvkvm_xen_cpuid_base + 3, 0).ecx;
}

int main(void) {
  unsigned long long n = pvkvm_cmdline_ull("n", 100000);
  int raw = pvkvm_cmdline_ull("raw", 0) != 0;
  if (n == 0) n = 1;
  if (!pvkvm_xen_present()) printf("note: no Xen hypervisor interface, timing the fallback stubs\n");

  long first = HYPERVISOR_xen_version(XENVER_version, NULL); /* warm up */
  unsigned long long bad = 0;
  uint64_t t0 = rdtsc();
  if (raw) {
    for (unsigned long long i = 0; i < n; i++)
      if (raw_xen_version() != first) bad++;
  } else {
    for (unsigned long long i = 0; i < n; i++)
      if (HYPERVISOR_xen_version(XENVER_version, NULL) != first) bad++;
  }
  uint64_t t1 = rdtsc();

  unsigned long long cycles = t1 - t0;
  printf("mode=%s\n", raw ? "raw" : "page");
  {
    /* Cost of ordinary guest memory traffic: one load and one store per iteration. */
    volatile unsigned long long acc = 0;
    unsigned long long t0 = rdtsc();
    for (unsigned i = 0; i < 20000; i++) acc += i;
    printf("memloop_cycles=%llu\n", (rdtsc() - t0) / 20000);
    /* The same loop kept in registers: separates memory cost from execution cost. */
    unsigned long long x = 0;
    t0 = rdtsc();
    for (unsigned i = 0; i < 20000; i++) __asm__ volatile("add %1, %0" : "+r"(x) : "r"((unsigned long long)i));
    printf("regloop_cycles=%llu\n", (rdtsc() - t0) / 20000);
  }
  printf("calls=%llu\n", n);
  printf("total_cycles=%llu\n", cycles);
  printf("cycles_per_call=%llu\n", cycles / n);
  uint32_t khz = tsc_khz();
  if (khz) {
    printf("tsc_khz=%u\n", khz);
    printf("ns_per_call=%llu\n", cycles * 1000000ULL / khz / n);
  }
  /* Under raw mode without pvkvm nothing answers the port, so results are meaningless. */
  if (bad && pvkvm_xen_present()) {
    printf("%llu calls returned something other than %ld\n", bad, first);
    test_exit(TEST_FAILURE);
  }
  test_exit(TEST_SUCCESS);
}
