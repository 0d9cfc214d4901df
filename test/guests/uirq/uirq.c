/*
 * uirq: code at CPL 3 keeps running, registers intact, while interrupts come and go.
 * A register-checking spin (spin.S) runs, 10 ms at a time, until 20 ticks of this vCPU's
 * VIRQ_TIMER (armed every millisecond) have arrived, or 10 s have passed on a very loaded host;
 * each timer handler re-arms the timer and sends an event-channel IPI to this vCPU, so upcalls
 * for two ports keep arriving. Both handlers run at CPL 3 (the kernel only records the
 * upcall), on the interrupted stack. Then the same with the virtual interrupt flag off: the
 * upcalls are recorded and run only when the flag goes back on.
 *   mode=vector|callback   upcall mode (default vector)
 * Also runs with sdk.mode=kernel (all at CPL 0), where the same must hold.
 */
#include <pvkvm/pvkvm.h>

#define TICK_NS NSEC_PER_MSEC
#define WANT_TICKS 20
#define GIVE_UP_NS (10 * NSEC_PER_SEC)

uint64_t spin_checked(uint64_t until_tsc);

static evtchn_port_t ipi;
static volatile unsigned ticks, ipis, wrong_level;
static volatile int rearm = 1;

static void on_ipi(evtchn_port_t p, void *arg) {
  ipis++;
  if (pvkvm_at_cpl3() != (pvkvm_sdk_mode == PVKVM_MODE_USER)) wrong_level++;
}

static void on_tick(void *arg) {
  ticks++;
  if (pvkvm_at_cpl3() != (pvkvm_sdk_mode == PVKVM_MODE_USER)) wrong_level++;
  if (!rearm) return;
  pvkvm_set_timer(pvkvm_time_ns() + TICK_NS);
  evtchn_send(ipi);
}

static uint64_t tsc_after_ms(unsigned ms) { return rdtsc() + pvkvm_tsc_hz() / 1000 * ms; }

int main(void) {
  REQUIRE_XEN();
  char opt[16] = "vector";
  pvkvm_cmdline_get("mode", opt, sizeof(opt));
  enum evtchn_upcall_mode mode = strcmp(opt, "callback") == 0 ? EVTCHN_CALLBACK_VECTOR : EVTCHN_UPCALL_VECTOR;
  printf("main at CPL %d, upcall mode %s\n", pvkvm_at_cpl3() ? 3 : 0, opt);
  REQUIRE(pvkvm_tsc_hz() != 0);
  cli();
  REQUIRE(evtchn_init(mode) == 0);
  REQUIRE(pvkvm_timer_init() == 0);
  REQUIRE(evtchn_bind_ipi(pvkvm_vcpu_id(), &ipi) == 0);
  evtchn_set_handler(ipi, on_ipi, NULL);
  pvkvm_timer_set_hook(on_tick, NULL);

  /* 1. Interrupts on: handlers run while the spin runs. */
  pvkvm_set_timer(pvkvm_time_ns() + TICK_NS);
  sti();
  uint64_t rounds = 0, give_up = pvkvm_time_ns() + GIVE_UP_NS;
  int intact = 1;
  while ((ticks < WANT_TICKS || ipis < WANT_TICKS) && pvkvm_time_ns() < give_up) {
    uint64_t r = spin_checked(tsc_after_ms(10));
    if (!r) intact = 0;
    rounds += r;
  }
  unsigned t1 = ticks, i1 = ipis;
  printf("interrupts on: %llu rounds, %u timer ticks, %u IPIs\n", (unsigned long long)rounds, t1, i1);
  CHECK(intact);
  CHECK(t1 >= WANT_TICKS);
  CHECK(i1 >= WANT_TICKS);

  /* 2. The flag off: nothing runs during the spin; what was recorded runs at sti. */
  cli();
  unsigned t2 = ticks, i2 = ipis;
  pvkvm_set_timer(pvkvm_time_ns() + TICK_NS);
  CHECK(spin_checked(tsc_after_ms(20)) > 0);
  CHECK_EQ(ticks, t2);
  CHECK_EQ(ipis, i2);
  rearm = 0;
  sti();
  /* The tick is pending now (it fired during the spin), so it ran at sti; allow for a host that
   * had not delivered it yet. */
  for (unsigned n = 0; n < 100 && ticks == t2; n++) spin_checked(tsc_after_ms(1));
  printf("interrupts off for 20 ms: the tick ran at sti (%u -> %u)\n", t2, ticks);
  CHECK(ticks > t2);
  CHECK_EQ(wrong_level, 0);
  CHECK(pvkvm_at_cpl3() == (pvkvm_sdk_mode == PVKVM_MODE_USER));
  test_done();
}
