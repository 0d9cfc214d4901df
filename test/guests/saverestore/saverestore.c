/*
 * saverestore: a guest that keeps counting across `pvkvm save` / `pvkvm restore`.
 *
 * Offers control/feature-suspend and watches control/shutdown. It counts in memory and fills a
 * 1 MiB buffer with a pattern; on "suspend" it writes data/suspend-N = "<count>", suspends, and
 * once resumed writes data/resume-N = "<rc> <count> <pattern ok|bad>" (rc 1: cancelled, save -c;
 * 0: restored in a new domain), re-registers its watch (watches do not survive a restore) and
 * counts on. On "poweroff" it writes data/final = "<count>" and powers off.
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/xenbus.h>

#define BUF_BYTES (1u << 20)
static uint8_t buf[BUF_BYTES];
static volatile uint64_t counter;

static uint8_t pattern(size_t i) { return (uint8_t)(i * 131u + (i >> 12) + 7u); }

static int pattern_ok(void) {
  for (size_t i = 0; i < BUF_BYTES; i++)
    if (buf[i] != pattern(i)) return 0;
  return 1;
}

static void put(const char *key, const char *fmt, unsigned long long a, long b, const char *c) {
  char path[64], value[96];
  snprintf(path, sizeof(path), "data/%s", key);
  snprintf(value, sizeof(value), fmt, a, b, c);
  int rc = xs_write(XBT_NIL, path, value);
  if (rc < 0) printf("xs_write %s failed: %d\n", path, rc);
}

int main(void) {
  REQUIRE_XEN();
  if (xs_init() < 0 || xenbus_watch_control_shutdown() < 0 || xenbus_offer_suspend() < 0) {
    printf("no xenstore\n");
    test_exit(TEST_FAILURE);
  }
  for (size_t i = 0; i < BUF_BYTES; i++) buf[i] = pattern(i);
  put("ready", "%llu", 1, 0, "");
  printf("saverestore: ready\n");
  int suspends = 0;
  for (;;) {
    char cmd[32];
    /* Count while waiting: each short wait that times out adds to the counter. */
    int reason = xenbus_wait_control_shutdown(20 * NSEC_PER_MSEC, cmd, sizeof(cmd));
    counter++;
    if (reason == -XEN_ETIMEDOUT) continue;
    if (reason < 0) {
      printf("control/shutdown: %d\n", reason);
      test_exit(TEST_FAILURE);
    }
    if (reason == SHUTDOWN_suspend) {
      char key[16];
      suspends++;
      snprintf(key, sizeof(key), "suspend-%d", suspends);
      uint64_t before = counter;
      put(key, "%llu", before, 0, "");
      printf("saverestore: suspending at count %llu\n", (unsigned long long)before);
      long rc = pvkvm_suspend();
      uint64_t after = counter;
      printf("saverestore: resumed (rc %ld) at count %llu\n", rc, (unsigned long long)after);
      /* Watches live in the (new) xenstored connection: register ours again. */
      int wrc = xenbus_watch_control_shutdown();
      if (wrc < 0) printf("re-watch failed: %d\n", wrc);
      snprintf(key, sizeof(key), "resume-%d", suspends);
      put(key, "%llu %ld %s", after, rc, pattern_ok() ? "ok" : "bad");
      continue;
    }
    put("final", "%llu", counter, 0, "");
    printf("saverestore: final count %llu\n", (unsigned long long)counter);
    test_result(TEST_SUCCESS);
    pvkvm_shutdown((unsigned)reason);
  }
}
