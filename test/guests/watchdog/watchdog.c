/*
 * watchdog: SCHEDOP_watchdog, Xen's per-domain watchdog timers (two per domain).
 *   mode=api     return values: create, -ENOSPC when both are in use, destroy, re-create, bad ids,
 *                re-arm; then destroys both and powers off (SUCCESS)
 *   mode=expire  creates one with a 1 s timeout and spins with interrupts off: the domain must
 *                be shut down with SHUTDOWN_watchdog (pvkvm run exits 14)
 *   mode=pet     creates one with a 1 s timeout and re-arms it every ~200 ms for ~3 s, then
 *                destroys it and powers off: it must never fire (exit 0)
 */
#include <pvkvm/pvkvm.h>

#define NS_PER_MS 1000000ULL

/* Long enough that nothing fires while the api checks run, even on a slow host. */
#define API_TIMEOUT_S 60

static long wd(uint32_t id, uint32_t timeout) {
  struct sched_watchdog w = {.id = id, .timeout = timeout};
  return HYPERVISOR_sched_op(SCHEDOP_watchdog, &w);
}

static uint64_t now_ns(void) {
  struct xen_hvm_get_time t = {0};
  long rc = HYPERVISOR_hvm_op(HVMOP_get_time, &t);
  REQUIRE(rc == 0);
  return t.now;
}

static void api(void) {
  /* Creation hands out the lowest free id, 1 then 2; a third finds no free timer. */
  long a = wd(0, API_TIMEOUT_S);
  CHECK_EQ(a, 1);
  long b = wd(0, API_TIMEOUT_S);
  CHECK_EQ(b, 2);
  long c = wd(0, API_TIMEOUT_S);
  printf("third create: %ld\n", c);
  CHECK_EQ(c, -XEN_ENOSPC);

  /* Destroying one frees its id for the next creation; the freed id no longer accepts re-arms. */
  CHECK_EQ(wd(1, 0), 0);
  CHECK_EQ(wd(1, API_TIMEOUT_S), -XEN_EINVAL);
  CHECK_EQ(wd(1, 0), -XEN_EINVAL);
  CHECK_EQ(wd(0, API_TIMEOUT_S), 1);

  /* Ids above NR_DOMAIN_WATCHDOG_TIMERS (2) are invalid whatever the timeout. */
  CHECK_EQ(wd(3, API_TIMEOUT_S), -XEN_EINVAL);
  CHECK_EQ(wd(3, 0), -XEN_EINVAL);
  CHECK_EQ(wd(0xffffffffu, API_TIMEOUT_S), -XEN_EINVAL);

  /* Re-arm both, then destroy both; afterwards neither id is in use. */
  CHECK_EQ(wd(1, API_TIMEOUT_S), 0);
  CHECK_EQ(wd(2, API_TIMEOUT_S), 0);
  CHECK_EQ(wd(2, 0), 0);
  CHECK_EQ(wd(1, 0), 0);
  CHECK_EQ(wd(2, 0), -XEN_EINVAL);
  CHECK_EQ(wd(1, API_TIMEOUT_S), -XEN_EINVAL);
  test_done();
}

static void expire(void) {
  long id = wd(0, 1);
  REQUIRE(id == 1);
  printf("watchdog %ld armed for 1 s; spinning without petting it\n", id);
  console_flush();
  /* No hypercalls and no interrupts from here: only the hypervisor can end this. */
  cli();
  volatile unsigned long n = 0;
  for (;;) n++;
}

static void pet(void) {
  long id = wd(0, 1);
  REQUIRE(id == 1);
  const uint64_t start = now_ns();
  uint64_t next = start + 200 * NS_PER_MS;
  unsigned pets = 0;
  for (;;) {
    uint64_t t = now_ns();
    if (t - start >= 3000 * NS_PER_MS) break;
    if (t >= next) {
      CHECK_EQ(wd((uint32_t)id, 1), 0);
      pets++;
      next = t + 200 * NS_PER_MS;
    }
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
  }
  printf("re-armed %u times over %llu ms\n", pets,
         (unsigned long long)((now_ns() - start) / NS_PER_MS));
  CHECK(pets >= 10);
  CHECK_EQ(wd((uint32_t)id, 0), 0);
  test_done();
}

int main(void) {
  REQUIRE_XEN();
  char mode[16] = "api";
  pvkvm_cmdline_get("mode", mode, sizeof(mode));
  printf("watchdog: mode=%s\n", mode);
  if (strcmp(mode, "api") == 0) api();
  if (strcmp(mode, "expire") == 0) expire();
  if (strcmp(mode, "pet") == 0) pet();
  printf("unknown mode '%s'\n", mode);
  test_exit(TEST_ERROR);
}
