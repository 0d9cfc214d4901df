/*
 * guestspeed: what running at CPL 3 buys and costs a domU-sdk guest (bench/guest-speed.mjs).
 * Prints key=value lines:
 *   mode, gate                   the SDK's level and kernel-call gate
 *   loop_x1000                   register loop, thousandths of a cycle per iteration (best of 21)
 *   memcpy_cycles                one 4 KiB copy (best of 21 runs)
 *   kernel_call_cycles           a null kernel call (PVKVM_KC_NULL), median
 *   hypercall_cycles             xen_version(XENVER_version) through the SDK's wrapper, median
 *   multicall8_cycles            one multicall of 8 xen_version entries, median
 *   interrupt_cycles, interrupts the time a spinning loop loses to one VIRQ_TIMER upcall that runs
 *                                a (counting) handler, over a periodic 1 ms timer: the lowest
 *                                tenth of the samples (interrupt_median_cycles: their median),
 *                                since host scheduling delays some deliveries by milliseconds
 *   n=ITERATIONS (default 2000000), copies=N (default 2000), calls=N (default 200), spin_ms=N
 * (default 300). At CPL 0 everything is emulated on kvm_pvm hosts: give it small counts.
 */
#include <pvkvm/pvkvm.h>
#include "speed_loops.h"

static uint8_t buf_a[4096] __attribute__((aligned(4096))), buf_b[4096] __attribute__((aligned(4096)));

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sort n samples (insertion sort: n is small). */
static void sort_u64(uint64_t *v, unsigned n) {
  for (unsigned i = 1; i < n; i++)
    for (unsigned j = i; j > 0 && cmp_u64(&v[j - 1], &v[j]) > 0; j--) {
      uint64_t t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
}

static uint64_t median(uint64_t *v, unsigned n) {
  sort_u64(v, n);
  return n ? v[n / 2] : 0;
}

#define MAX_SAMPLES 4096
static uint64_t samples[MAX_SAMPLES];

static uint64_t time_kcall(unsigned calls) {
  for (unsigned i = 0; i < calls; i++) {
    uint64_t t0 = speed_tsc();
    pvkvm_kcall0(PVKVM_KC_NULL);
    samples[i] = speed_tsc() - t0;
  }
  return median(samples, calls);
}

static uint64_t time_hypercall(unsigned calls) {
  for (unsigned i = 0; i < calls; i++) {
    uint64_t t0 = speed_tsc();
    HYPERVISOR_xen_version(XENVER_version, NULL);
    samples[i] = speed_tsc() - t0;
  }
  return median(samples, calls);
}

static uint64_t time_multicall8(unsigned calls) {
  static struct multicall_entry mc[8];
  for (unsigned i = 0; i < calls; i++) {
    memset(mc, 0, sizeof(mc));
    for (unsigned k = 0; k < 8; k++) mc[k].op = __HYPERVISOR_xen_version;
    uint64_t t0 = speed_tsc();
    HYPERVISOR_multicall(mc, 8);
    samples[i] = speed_tsc() - t0;
  }
  return median(samples, calls);
}

static volatile unsigned ticks;
static void on_tick(void *arg) { ticks++; }

/* Spin reading the TSC with a periodic 1 ms VIRQ_TIMER: a jump well above the loop's own step
 * across which the handler ran exactly once is one interrupt's round trip, handler included.
 * (Jumps without a tick are the host preempting the vCPU, and are left out.) */
static uint64_t time_interrupts(unsigned spin_ms, unsigned *count, uint64_t *med) {
  *count = 0;
  *med = 0;
  if (evtchn_init(EVTCHN_UPCALL_VECTOR) < 0 || pvkvm_timer_init() < 0) return 0;
  pvkvm_timer_set_hook(on_tick, NULL);
  uint64_t step = ~0ull; /* the loop's own step, without interrupts */
  for (unsigned i = 0; i < 1000; i++) {
    uint64_t a = speed_tsc(), b = speed_tsc();
    if (b - a < step) step = b - a;
  }
  uint64_t threshold = step * 20 > 3000 ? step * 20 : 3000;
  struct vcpu_set_periodic_timer p = {.period_ns = NSEC_PER_MSEC};
  if (HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, (int)pvkvm_vcpu_id(), &p) < 0) return 0;
  sti();
  uint64_t end = speed_tsc() + pvkvm_tsc_hz() / 1000 * spin_ms, prev = speed_tsc();
  unsigned n = 0, seen = ticks;
  for (uint64_t now; (now = speed_tsc()) < end; prev = now) {
    unsigned t = ticks;
    if (t != seen && now - prev > threshold && t == seen + 1 && n < MAX_SAMPLES) samples[n++] = now - prev;
    seen = t;
  }
  cli();
  HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, (int)pvkvm_vcpu_id(), NULL);
  *count = n;
  *med = median(samples, n); /* sorted now */
  return n ? samples[n / 10] : 0;
}

int main(void) {
  REQUIRE_XEN();
  uint64_t n = pvkvm_cmdline_ull("n", 2000000);
  uint64_t copies = pvkvm_cmdline_ull("copies", 2000);
  unsigned calls = (unsigned)pvkvm_cmdline_ull("calls", 200);
  unsigned spin_ms = (unsigned)pvkvm_cmdline_ull("spin_ms", 300);
  if (calls > MAX_SAMPLES) calls = MAX_SAMPLES;
  printf("mode=%s\n", pvkvm_at_cpl3() ? "user" : "kernel");
  printf("gate=%s\n", !pvkvm_at_cpl3() ? "none" : pvkvm_kcall_syscall ? "syscall" : "int3");
  printf("loop_x1000=%llu\n", (unsigned long long)speed_loop_cycles_x1000(n, 21));
  printf("memcpy_cycles=%llu\n", (unsigned long long)speed_copy_cycles(buf_a, buf_b, copies, 21));
  printf("kernel_call_cycles=%llu\n", (unsigned long long)time_kcall(calls));
  printf("hypercall_cycles=%llu\n", (unsigned long long)time_hypercall(calls));
  printf("multicall8_cycles=%llu\n", (unsigned long long)time_multicall8(calls));
  unsigned count;
  uint64_t med;
  uint64_t irq = time_interrupts(spin_ms, &count, &med);
  printf("interrupt_cycles=%llu\ninterrupt_median_cycles=%llu\ninterrupts=%u\n",
         (unsigned long long)irq, (unsigned long long)med, count);
  printf("tsc_khz=%llu\n", (unsigned long long)(pvkvm_tsc_hz() / 1000));
  test_exit(TEST_SUCCESS);
}
