/*
 * vcpuhotplug: vCPU hot-plug through the SDK (xenbus_watch_cpu_hotplug / xenbus_handle_cpu_hotplug):
 * every online secondary vCPU counts (a per-vCPU counter, a 2 ms sleep, pvkvm_smp_checkpoint), and
 * vCPU 0 applies the toolstack's cpu/N/availability changes (pvkvm vcpu-set) as they come.
 *
 * On each change it prints `online vCPUs: 0,1,... (mask 0x..)`, then checks the change took:
 * each offline vCPU is down in the hypervisor (VCPUOP_is_up = 0) and its counter does not move
 * over 200 ms (`vCPU N stopped at COUNT`); each online one is up and its counter moves
 * (`vCPU N counting (A -> B)`, waited for up to 20 s). Once it has seen a vCPU go offline and
 * come back, and every vCPU online, it prints `Test result: SUCCESS` and waits for
 * control/shutdown (the test's `pvkvm shutdown`). timeout_ms=T (default 150000): FAILURE if the
 * cycle is not seen by then.
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/xenbus.h>

#define MS NSEC_PER_MSEC

/* One counter per vCPU, each on its own cache line. */
static struct {
  volatile uint64_t n;
  char pad[56];
} count[PVKVM_MAX_VCPUS] __attribute__((aligned(64)));

/* The work every secondary runs while it is online (pvkvm_smp_on_online). */
static void counter(void *arg) {
  unsigned id = pvkvm_vcpu_id();
  for (;;) {
    count[id].n++;
    pvkvm_sleep_ns(2 * MS);
    pvkvm_smp_checkpoint(); /* taken offline: down here until online again */
  }
}

static void print_mask(uint32_t mask) {
  char buf[128];
  size_t at = 0;
  for (unsigned v = 0; v < PVKVM_MAX_VCPUS; v++)
    if (mask & (1u << v)) at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%u", at ? "," : "", v);
  buf[at] = 0;
  printf("online vCPUs: %s (mask 0x%x)\n", buf, mask);
}

/* The change took: offline vCPUs are down and still, online ones up and counting. */
static void verify(int n, uint32_t mask) {
  for (unsigned v = 1; v < (unsigned)n; v++) {
    uint64_t a = count[v].n;
    if (!(mask & (1u << v))) {
      CHECK_EQ(pvkvm_vcpu_is_up(v), 0);
      pvkvm_sleep_ns(200 * MS);
      if (CHECK_EQ(count[v].n, a)) printf("vCPU %u stopped at %llu\n", v, (unsigned long long)a);
      continue;
    }
    uint64_t end = deadline_after(20000 * MS);
    while (count[v].n == a && pvkvm_time_ns() < end) pvkvm_sleep_ns(10 * MS);
    CHECK_EQ(pvkvm_vcpu_is_up(v), 1);
    if (CHECK(count[v].n != a)) printf("vCPU %u counting (%llu -> %llu)\n", v, (unsigned long long)a, (unsigned long long)count[v].n);
  }
}

int main(void) {
  REQUIRE_XEN();
  int n = pvkvm_nr_vcpus();
  printf("%d vCPUs\n", n);
  if (n < 2) test_skip("needs at least 2 vCPUs (maxvcpus = 2 or more)");
  int rc = xs_init();
  if (rc < 0) {
    printf("xs_init failed: %d (no xenstore for this domain?)\n", rc);
    test_exit(TEST_FAILURE);
  }
  REQUIRE(xenbus_watch_control_shutdown() == 0);
  REQUIRE(pvkvm_smp_prepare() == 0);
  pvkvm_smp_on_online(counter, NULL);
  rc = xenbus_watch_cpu_hotplug(); /* starts the counter on every vCPU that is online */
  if (rc < 0) {
    printf("xenbus_watch_cpu_hotplug failed: %d\n", rc);
    test_exit(TEST_FAILURE);
  }
  uint32_t all = n >= 32 ? ~0u : (1u << n) - 1;
  uint32_t mask = pvkvm_smp_online_mask();
  print_mask(mask);
  verify(n, mask);
  CHECK_EQ(pvkvm_start_vcpu(0, counter, NULL), -XEN_EINVAL);

  uint32_t went_offline = 0; /* vCPUs seen offline after being online */
  int cycled = 0;
  uint64_t end = deadline_after(pvkvm_cmdline_ull("timeout_ms", 150000) * MS);
  for (;;) {
    if (!cycled && pvkvm_time_ns() >= end) {
      printf("no offline-and-back cycle within timeout_ms\n");
      test_exit(TEST_FAILURE);
    }
    rc = xenbus_handle_cpu_hotplug(200 * MS);
    if (rc > 0) {
      uint32_t now = pvkvm_smp_online_mask();
      went_offline |= mask & ~now;
      mask = now;
      print_mask(mask);
      verify(n, mask);
      for (unsigned v = 1; v < (unsigned)n; v++)
        if (!(mask & (1u << v))) CHECK_EQ(pvkvm_start_vcpu(v, counter, NULL), -XEN_ENODEV);
      if (!cycled && (went_offline & mask) && mask == all) {
        cycled = 1;
        test_result(test_failures ? TEST_FAILURE : TEST_SUCCESS);
        console_flush();
      }
    } else if (rc < 0 && rc != -XEN_ETIMEDOUT) {
      printf("xenbus_handle_cpu_hotplug failed: %d\n", rc);
      test_exit(TEST_FAILURE);
    }
    char cmd[32];
    int reason = xenbus_wait_control_shutdown(0, cmd, sizeof(cmd));
    if (reason >= 0) {
      printf("control/shutdown: %s\n", cmd);
      if (!cycled) test_result(TEST_FAILURE);
      pvkvm_shutdown((unsigned)reason);
    }
  }
}
