/*
 * smp: secondary vCPUs (VCPUOP_initialise / up / down / is_up, docs/xen-abi.md §3.2, §7.4) through
 * the SDK's pvkvm_start_vcpu, event-channel IPIs both ways, per-vCPU pvclock and VIRQ_TIMER, a
 * vCPU downing itself and being upped again, and parking / restarting through the SDK.
 * Run with --vcpus 2 (or more; only vCPU 1 is used). With one vCPU it prints SKIP. At CPL 3 (the
 * SDK's default) the raw VCPUOP_initialise checks give way to checking that the SDK's kernel
 * refuses the op from user code; sdk.mode=kernel runs them.
 *   mode=vector|callback   upcall mode (default vector)
 *   n=COUNT                IPI round trips in each direction (default 1000)
 *
 * vCPU 0 drives: it sets sh.phase and sends a "kick" IPI to vCPU 1, which waits for phase changes
 * in `sti; hlt`, does the phase's work (and its own CHECKs) and acknowledges in sh.ack. vCPU 0
 * waits with `sti; hlt` too, woken by events or by its own VIRQ_TIMER every 2 ms, and gives up on
 * a phase after 10 s. Timing checks use lower bounds only.
 */
#include <pvkvm/pvkvm.h>

#define MS NSEC_PER_MSEC
#define TICK (2 * MS)
#define PHASE_TIMEOUT_MS 10000

enum phase { PH_NONE, PH_BIND, PH_PINGPONG, PH_TIME, PH_DOWN, PH_FINISH };

static struct {
  /* reported by vCPU 1 when it starts */
  volatile unsigned started, id, cpuid_id, apic_id, svr, if_at_entry, mode;
  volatile long kick_rc;
  volatile evtchn_port_t kick1; /* bound by vCPU 1 to itself: vCPU 0 wakes it with this */
  volatile evtchn_port_t to0;   /* bound by vCPU 1 for vCPU 0 (PH_BIND) */
  /* phases */
  volatile int phase, ack;
  /* PH_DOWN */
  volatile int going_down, resumed;
  volatile long down_rc;
  volatile unsigned resumed_id;
  /* the SDK restart */
  volatile int second_ran, release;
  volatile unsigned second_id;
} sh;

/* IPIs: to1 (bound by vCPU 0 for vCPU 1) and to0 (bound by vCPU 1 for vCPU 0). */
static evtchn_port_t to1;
static volatile unsigned got0, got1, wrong0, wrong1, kicks;
static volatile int reply0, reply1;
static unsigned rounds = 1000;

static void on_ipi_at0(evtchn_port_t p, void *arg) {
  if (pvkvm_vcpu_id() != 0) wrong0++;
  got0++;
  if (reply0) evtchn_send(to1);
}

static void on_ipi_at1(evtchn_port_t p, void *arg) {
  if (pvkvm_vcpu_id() != 1) wrong1++;
  got1++;
  if (reply1) evtchn_send(sh.to0);
}

static void on_kick(evtchn_port_t p, void *arg) { kicks++; }

/* Wait with `sti; hlt` until cond holds or ms pass, re-arming this vCPU's VIRQ_TIMER every TICK
 * so conditions that are plain memory writes are seen too. Returns with interrupts on. */
#define WAIT_UNTIL(cond, ms)                                          \
  ({                                                                  \
    uint64_t _end = pvkvm_time_ns() + (uint64_t)(ms) * MS;            \
    int _ok;                                                          \
    for (;;) {                                                        \
      cli();                                                          \
      if ((_ok = !!(cond))) break;                                    \
      uint64_t _t = pvkvm_time_ns();                                  \
      if (_t >= _end) break;                                          \
      pvkvm_set_timer(_t + TICK < _end ? _t + TICK : _end);           \
      safe_halt();                                                    \
    }                                                                 \
    sti();                                                            \
    _ok;                                                              \
  })

/* ---------------- vCPU 1 ---------------- */

/* Halt (interrupts on) until sh.phase differs from cur; returns the new phase. */
static int wait_phase(int cur) {
  cli();
  while (sh.phase == cur) {
    safe_halt();
    cli();
  }
  int p = sh.phase;
  sti();
  return p;
}

static volatile uint64_t timer_fire_ns;
static volatile unsigned timer_fire_cpu;

static void on_timer1(void *arg) {
  timer_fire_ns = pvkvm_hvm_time_ns();
  timer_fire_cpu = pvkvm_vcpu_id();
}

/* Arm this vCPU's timer 20 ms ahead (set_timer_op or the singleshot timer), wait for its
 * VIRQ_TIMER, and check it fired on this vCPU, not before the deadline. */
static void timer_once(const char *what, int singleshot) {
  cli();
  uint64_t fired = pvkvm_timer_fired();
  timer_fire_ns = 0;
  timer_fire_cpu = ~0u;
  uint64_t deadline = pvkvm_hvm_time_ns() + 20 * MS;
  if (singleshot) {
    struct vcpu_set_singleshot_timer t = {0};
    t.timeout_abs_ns = deadline;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &t), 0);
  } else {
    CHECK_EQ(pvkvm_set_timer(deadline), 0);
  }
  /* No bound here: if it never fires, vCPU 0 gives up on the phase. */
  while (pvkvm_timer_fired() == fired) {
    safe_halt();
    cli();
  }
  sti();
  printf("vCPU 1: %s fired %lld us after its deadline on vCPU %u\n", what,
         (long long)(timer_fire_ns - deadline) / 1000, timer_fire_cpu);
  CHECK(timer_fire_ns >= deadline);
  CHECK_EQ(timer_fire_cpu, 1);
}

static void time_checks(void) {
  struct shared_info *s = pvkvm_shared_info();
  REQUIRE(s != NULL);
  CHECK(pvkvm_vcpu_info() == &s->vcpu_info[1]);
  struct vcpu_time_info ti;
  CHECK_EQ(pvkvm_time_info(&ti), 0);
  printf("vCPU 1: pvclock version %u, system_time %llu, mul %u, shift %d\n", ti.version,
         (unsigned long long)ti.system_time, ti.tsc_to_system_mul, ti.tsc_shift);
  CHECK(ti.version != 0);
  CHECK_EQ(ti.version & 1, 0);
  CHECK(ti.tsc_to_system_mul != 0);

  uint64_t a = pvkvm_time_ns();
  for (volatile int i = 0; i < 1000; i++) {}
  uint64_t b = pvkvm_time_ns();
  CHECK(a != 0);
  CHECK(b > a);
  uint64_t g1 = pvkvm_hvm_time_ns(), c = pvkvm_time_ns(), g2 = pvkvm_hvm_time_ns();
  printf("vCPU 1: pvclock %llu vs HVMOP_get_time %llu..%llu\n", (unsigned long long)c,
         (unsigned long long)g1, (unsigned long long)g2);
  CHECK(c + 10 * MS >= g1);
  CHECK(c <= g2 + 10 * MS);
  unsigned backwards = 0;
  uint64_t prev = pvkvm_time_ns();
  for (int i = 0; i < 200; i++) {
    uint64_t t = pvkvm_time_ns();
    if (t < prev) backwards++;
    prev = t;
  }
  CHECK_EQ(backwards, 0);

  /* VIRQ_TIMER bound on vCPU 1, fired by set_timer_op and the singleshot timer on vCPU 1. */
  CHECK_EQ(pvkvm_timer_init(), 0);
  evtchn_port_t tp = pvkvm_timer_port();
  CHECK(tp != 0);
  struct evtchn_status_info st;
  if (CHECK_EQ(evtchn_status(DOMID_SELF, tp, &st), 0)) {
    CHECK_EQ(st.status, EVTCHNSTAT_virq);
    CHECK_EQ(st.virq, VIRQ_TIMER);
    CHECK_EQ(st.vcpu, 1);
  }
  pvkvm_timer_set_hook(on_timer1, NULL);
  timer_once("set_timer_op (20 ms)", 0);
  timer_once("VCPUOP_set_singleshot_timer (20 ms)", 1);
  pvkvm_timer_set_hook(NULL, NULL);
}

static void pingpong_from1(void) {
  /* reply0 = 1, reply1 = 0 (set by vCPU 0): vCPU 1 sends on to0, vCPU 0's handler answers. */
  unsigned base = got1;
  cli();
  for (unsigned i = 1; i <= rounds; i++) {
    CHECK_EQ(evtchn_send(sh.to0), 0);
    while (got1 < base + i) {
      safe_halt();
      cli();
    }
  }
  sti();
}

static void secondary(void *arg) {
  sh.if_at_entry = irqs_enabled();
  sh.id = pvkvm_vcpu_id();
  sh.cpuid_id = cpuid(pvkvm_xen_cpuid_base + 4, 0).ebx;
  sh.apic_id = lapic_id();
  sh.svr = lapic_read(LAPIC_SVR);
  sh.mode = evtchn_upcall_mode();
  evtchn_port_t k = 0;
  sh.kick_rc = evtchn_bind_ipi(1, &k);
  evtchn_set_handler(k, on_kick, NULL);
  sh.kick1 = k;
  printf("vCPU 1: running, id %u, APIC id %u, kick port %u\n", sh.id, sh.apic_id, k);
  __atomic_store_n(&sh.started, 1, __ATOMIC_SEQ_CST);

  int cur = PH_NONE;
  for (;;) {
    cur = wait_phase(cur);
    switch (cur) {
    case PH_BIND: {
      evtchn_port_t p = 0;
      CHECK_EQ(evtchn_bind_ipi(0, &p), 0);
      evtchn_set_handler(p, on_ipi_at0, NULL); /* runs on vCPU 0 */
      sh.to0 = p;
      break;
    }
    case PH_PINGPONG:
      pingpong_from1();
      break;
    case PH_TIME:
      time_checks();
      break;
    case PH_DOWN:
      sh.going_down = 1;
      sh.down_rc = pvkvm_vcpu_down(1);
      sh.resumed_id = pvkvm_vcpu_id();
      sh.resumed = 1;
      evtchn_send(sh.to0); /* signal vCPU 0 with an IPI */
      break;
    default:
      break;
    }
    __atomic_store_n(&sh.ack, cur, __ATOMIC_SEQ_CST);
    if (cur == PH_FINISH) return; /* the SDK parks the vCPU */
  }
}

static void second_job(void *arg) {
  sh.second_id = pvkvm_vcpu_id();
  sh.second_ran = 1;
  while (!__atomic_load_n(&sh.release, __ATOMIC_ACQUIRE)) cpu_relax();
}

/* ---------------- vCPU 0 ---------------- */

static int command(int phase) {
  sh.phase = phase;
  evtchn_send(sh.kick1);
  if (WAIT_UNTIL(sh.ack == phase, PHASE_TIMEOUT_MS)) return 1;
  printf("vCPU 1 did not finish phase %d (ack %d)\n", phase, sh.ack);
  return 0;
}

static void bad_entry(void) {
  for (;;) __asm__ volatile("cli; hlt");
}
static uint8_t bad_stack[4096] __attribute__((aligned(16)));

static void fill_ctx(struct vcpu_hvm_context *ctx, uint32_t mode) {
  memset(ctx, 0, sizeof(*ctx));
  ctx->mode = mode;
  ctx->cpu_regs_x86_64_rip = (uint64_t)(uintptr_t)bad_entry;
  ctx->cpu_regs_x86_64_rsp = (uint64_t)(uintptr_t)&bad_stack[sizeof(bad_stack)];
  ctx->cpu_regs_x86_64_rflags = 2;
  uint64_t cr0, cr4;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  ctx->cpu_regs_x86_64_cr0 = cr0;
  ctx->cpu_regs_x86_64_cr3 = read_cr3();
  ctx->cpu_regs_x86_64_cr4 = cr4;
  ctx->cpu_regs_x86_64_efer = rdmsr(0xc0000080);
}

static long vcpu_op(int cmd, unsigned vcpu, void *arg) { return HYPERVISOR_vcpu_op(cmd, (int)vcpu, arg); }

/* Ping-pong started by vCPU 0: send on to1, vCPU 1's handler answers on to0. */
static void pingpong_from0(void) {
  unsigned base = got0;
  uint64_t t0 = pvkvm_time_ns(), end = t0 + PHASE_TIMEOUT_MS * MS;
  cli();
  pvkvm_set_timer(end); /* watchdog only: the IPIs wake us */
  unsigned i;
  for (i = 1; i <= rounds; i++) {
    if (evtchn_send(to1) != 0) break;
    while (got0 < base + i && pvkvm_time_ns() < end) {
      safe_halt();
      cli();
    }
    if (got0 < base + i) break;
  }
  sti();
  uint64_t t1 = pvkvm_time_ns();
  printf("vCPU 0 -> 1: %u round trips, %llu us each\n", got0 - base,
         (unsigned long long)(t1 - t0) / 1000 / (rounds ? rounds : 1));
}

int main(void) {
  REQUIRE_XEN();
  int n = pvkvm_nr_vcpus();
  printf("%d vCPUs\n", n);
  if (n < 2) test_skip("needs at least 2 vCPUs (--vcpus 2)");
  rounds = (unsigned)pvkvm_cmdline_ull("n", 1000);
  char opt[16] = "vector";
  pvkvm_cmdline_get("mode", opt, sizeof(opt));
  enum evtchn_upcall_mode mode =
      strcmp(opt, "callback") == 0 ? EVTCHN_CALLBACK_VECTOR : EVTCHN_UPCALL_VECTOR;
  int at_cpl0 = !pvkvm_at_cpl3();
  printf("the SDK runs at CPL %d\n", at_cpl0 ? 0 : 3);
  cli();
  REQUIRE(evtchn_init(mode) == 0);
  REQUIRE(pvkvm_timer_init() == 0);
  printf("upcall mode %s, %u round trips\n", mode == EVTCHN_CALLBACK_VECTOR ? "callback" : "vector",
         rounds);

  /* ---- 1. before vCPU 1 exists ---- */
  struct vcpu_hvm_context ctx;
  CHECK_EQ(vcpu_op(VCPUOP_is_up, 0, NULL), 1);
  CHECK_EQ(vcpu_op(VCPUOP_is_up, 1, NULL), 0);
  CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL); /* never initialised */
  long rc;
  if (at_cpl0) {
    /* The hypervisor's checks of a context (reading CR0/CR3/CR4/EFER needs CPL 0). */
    fill_ctx(&ctx, VCPU_HVM_MODE_32B);
    rc = vcpu_op(VCPUOP_initialise, 1, &ctx);
    if (!CHECK(rc == -XEN_EINVAL || rc == -XEN_EOPNOTSUPP)) printf("  initialise 32B: %ld\n", rc);
    fill_ctx(&ctx, 7);
    rc = vcpu_op(VCPUOP_initialise, 1, &ctx);
    if (!CHECK(rc == -XEN_EINVAL || rc == -XEN_EOPNOTSUPP)) printf("  initialise mode 7: %ld\n", rc);
    fill_ctx(&ctx, VCPU_HVM_MODE_64B);
    CHECK_EQ(vcpu_op(VCPUOP_initialise, 7, &ctx), -XEN_ENOENT);
  } else {
    /* At CPL 3 the SDK's kernel keeps VCPUOP_initialise to itself (it would start code at CPL 0). */
    memset(&ctx, 0, sizeof(ctx));
    CHECK_EQ(vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EPERM);
  }
  CHECK_EQ(vcpu_op(VCPUOP_up, 7, NULL), -XEN_ENOENT);
  CHECK_EQ(vcpu_op(VCPUOP_is_up, 7, NULL), -XEN_ENOENT);
  CHECK_EQ(vcpu_op(VCPUOP_is_up, 1, NULL), 0); /* the failed calls left it alone */
  CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL);
  evtchn_port_t p7;
  CHECK_EQ(evtchn_bind_ipi(7, &p7), -XEN_ENOENT);
  CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 7, &p7), -XEN_ENOENT);
  struct vcpu_set_singleshot_timer sst = {0};
  sst.timeout_abs_ns = pvkvm_time_ns() + 1000 * MS;
  CHECK_EQ(vcpu_op(VCPUOP_set_singleshot_timer, 1, &sst), -XEN_EINVAL); /* not the caller */
  CHECK_EQ(pvkvm_vcpu_state(1), PVKVM_VCPU_OFFLINE);
  CHECK_EQ(pvkvm_start_vcpu(0, second_job, NULL), -XEN_EINVAL);
  CHECK_EQ(pvkvm_start_vcpu(PVKVM_MAX_VCPUS, second_job, NULL), -XEN_EINVAL);

  /* ---- 2. start vCPU 1 ---- */
  rc = pvkvm_start_vcpu(1, secondary, NULL);
  if (rc != 0) {
    printf("pvkvm_start_vcpu(1): %ld\n", rc);
    test_exit(TEST_FAILURE);
  }
  CHECK_EQ(pvkvm_vcpu_init_result(1), 0);
  CHECK(WAIT_UNTIL(sh.started, 5000));
  REQUIRE(sh.started);
  CHECK(WAIT_UNTIL(vcpu_op(VCPUOP_is_up, 1, NULL) == 1, 5000));
  CHECK_EQ(sh.id, 1);
  CHECK_EQ(sh.cpuid_id, 1);
  CHECK_EQ(sh.apic_id, 1);
  CHECK(sh.svr & LAPIC_SVR_ENABLE);
  CHECK_EQ(sh.if_at_entry, 0);
  CHECK_EQ(sh.mode, mode);
  CHECK_EQ(sh.kick_rc, 0);
  CHECK_EQ(pvkvm_vcpu_id(), 0);
  CHECK_EQ(cpuid(pvkvm_xen_cpuid_base + 4, 0).ebx, 0);
  CHECK_EQ(vcpu_op(VCPUOP_is_up, 0, NULL), 1);
  CHECK_EQ(pvkvm_vcpu_state(1), PVKVM_VCPU_RUNNING);
  CHECK_EQ(pvkvm_start_vcpu(1, second_job, NULL), -XEN_EBUSY);
  /* Initialising a running vCPU is refused (a context that would only halt, just in case). */
  if (at_cpl0) {
    fill_ctx(&ctx, VCPU_HVM_MODE_64B);
    CHECK_EQ(vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EEXIST);
  }
  REQUIRE(sh.kick_rc == 0);

  /* ---- 3. IPIs both ways ---- */
  CHECK_EQ(evtchn_bind_ipi(1, &to1), 0);
  evtchn_set_handler(to1, on_ipi_at1, NULL); /* runs on vCPU 1 */
  REQUIRE(command(PH_BIND));
  REQUIRE(sh.to0 != 0 && to1 != 0);
  struct evtchn_status_info st;
  if (CHECK_EQ(evtchn_status(DOMID_SELF, to1, &st), 0)) {
    CHECK_EQ(st.status, EVTCHNSTAT_ipi);
    CHECK_EQ(st.vcpu, 1);
  }
  if (CHECK_EQ(evtchn_status(DOMID_SELF, sh.to0, &st), 0)) {
    CHECK_EQ(st.status, EVTCHNSTAT_ipi);
    CHECK_EQ(st.vcpu, 0);
  }
  reply1 = 1;
  reply0 = 0;
  pingpong_from0();
  CHECK_EQ(got0, rounds);
  CHECK(WAIT_UNTIL(got1 == rounds, 1000));
  CHECK_EQ(got1, rounds);
  reply1 = 0;
  reply0 = 1;
  uint64_t t0 = pvkvm_time_ns();
  REQUIRE(command(PH_PINGPONG));
  uint64_t t1 = pvkvm_time_ns();
  printf("vCPU 1 -> 0: %u round trips, %llu us each\n", got1 - rounds,
         (unsigned long long)(t1 - t0) / 1000 / (rounds ? rounds : 1));
  reply0 = 0;
  CHECK_EQ(got0, 2 * rounds);
  CHECK_EQ(got1, 2 * rounds);
  CHECK_EQ(wrong0, 0);
  CHECK_EQ(wrong1, 0);
  CHECK_EQ(evtchn_unhandled_count(), 0);
  printf("kicks %u, vCPU 0: %llu upcalls, %llu events\n", kicks,
         (unsigned long long)evtchn_upcall_count(), (unsigned long long)evtchn_event_count());

  /* ---- 4. time on vCPU 1 ---- */
  REQUIRE(command(PH_TIME));

  /* ---- 5. vCPU 1 downs itself, is upped again ---- */
  unsigned g0 = got0;
  sh.phase = PH_DOWN;
  evtchn_send(sh.kick1);
  CHECK(WAIT_UNTIL(vcpu_op(VCPUOP_is_up, 1, NULL) == 0, 5000));
  CHECK(sh.going_down);
  /* It stays down, even with an event sent to it. */
  evtchn_send(sh.kick1);
  WAIT_UNTIL(0, 50);
  CHECK_EQ(sh.resumed, 0);
  CHECK_EQ(vcpu_op(VCPUOP_is_up, 1, NULL), 0);
  CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), 0);
  CHECK(WAIT_UNTIL(sh.resumed, 5000));
  CHECK_EQ(sh.down_rc, 0);
  CHECK_EQ(sh.resumed_id, 1);
  CHECK(WAIT_UNTIL(got0 == g0 + 1, 5000)); /* its IPI after resuming */
  CHECK(WAIT_UNTIL(sh.ack == PH_DOWN, 5000));
  CHECK_EQ(vcpu_op(VCPUOP_is_up, 1, NULL), 1);

  /* ---- 6. fn returns: the SDK parks the vCPU; start it again ---- */
  REQUIRE(command(PH_FINISH));
  CHECK(pvkvm_wait_vcpu_parked(1, 5 * NSEC_PER_SEC));
  CHECK_EQ(pvkvm_vcpu_state(1), PVKVM_VCPU_PARKED);
  CHECK_EQ(vcpu_op(VCPUOP_is_up, 1, NULL), 0);
  rc = pvkvm_start_vcpu(1, second_job, NULL);
  CHECK_EQ(rc, 0);
  if (rc == 0) {
    CHECK(WAIT_UNTIL(sh.second_ran, 5000));
    CHECK_EQ(sh.second_id, 1);
    CHECK_EQ(pvkvm_start_vcpu(1, second_job, NULL), -XEN_EBUSY);
    __atomic_store_n(&sh.release, 1, __ATOMIC_RELEASE);
    CHECK(pvkvm_wait_vcpu_parked(1, 5 * NSEC_PER_SEC));
  }
  test_done();
}
