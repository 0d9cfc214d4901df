/*
 * xsbench: benchmark of xenstore round trips from a guest, through the ring to dom0's xenstored
 * and back (needs dom0; without a store ring it reports FAILURE at once). Used by
 * `npm run bench -- xenstore`.
 *
 *   ops=N   round trips of each kind (default 2000)
 *   keys=K  distinct keys data/xsbench/k0 .. k(K-1) the operations cycle through (default 64)
 *
 * First N XS_WRITE requests (operation i writes "v<i>" to key i % K), then N XS_READ requests of
 * the same keys (each value is checked against the last write), one request outstanding at a
 * time. Each phase is timed with the SDK's monotonic clock (pvkvm_time_ns, pvclock system time).
 * Prints one line
 *   xsbench ops=N keys=K write_ns=T read_ns=T write_ns_per_op=T read_ns_per_op=T write_ops_per_s=R read_ops_per_s=R
 * (integers; ns totals are exact, the rates are ops * 1e9 / ns rounded down), removes
 * data/xsbench, and ends with `Test result: SUCCESS` (FAILURE if any request failed).
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/xenstore.h>

#define MAX_KEYS 1024u

static void key_path(char *buf, size_t len, unsigned k) {
  snprintf(buf, len, "data/xsbench/k%u", k);
}

int main(void) {
  REQUIRE_XEN();
  unsigned long long ops = pvkvm_cmdline_ull("ops", 2000);
  unsigned long long keys = pvkvm_cmdline_ull("keys", 64);
  if (ops == 0) ops = 1;
  if (keys == 0) keys = 1;
  if (keys > MAX_KEYS) keys = MAX_KEYS;
  int rc = xs_init();
  if (rc < 0) {
    printf("xs_init failed: %d (no xenstore for this domain?)\n", rc);
    test_exit(TEST_FAILURE);
  }

  char path[64], value[32], buf[64];
  /* Warm up: create every key once (so the timed writes overwrite, as the reads re-read). */
  for (unsigned k = 0; k < keys; k++) {
    key_path(path, sizeof(path), k);
    REQUIRE(xs_write(XBT_NIL, path, "init") == 0);
  }

  unsigned long long write_errors = 0, read_errors = 0;
  uint64_t t0 = pvkvm_time_ns();
  for (unsigned long long i = 0; i < ops; i++) {
    key_path(path, sizeof(path), (unsigned)(i % keys));
    snprintf(value, sizeof(value), "v%llu", i);
    if (xs_write(XBT_NIL, path, value) != 0) write_errors++;
  }
  uint64_t t1 = pvkvm_time_ns();
  for (unsigned long long i = 0; i < ops; i++) {
    key_path(path, sizeof(path), (unsigned)(i % keys));
    if (xs_read(XBT_NIL, path, buf, sizeof(buf)) < 0) read_errors++;
  }
  uint64_t t2 = pvkvm_time_ns();

  /* The last write of each key is the one with the highest i ≡ k (mod keys). */
  for (unsigned k = 0; k < keys && k < ops; k++) {
    unsigned long long last = ops - 1 - ((ops - 1 - k) % keys);
    key_path(path, sizeof(path), k);
    snprintf(value, sizeof(value), "v%llu", last);
    int n = xs_read(XBT_NIL, path, buf, sizeof(buf));
    if (!CHECK(n >= 0 && strcmp(buf, value) == 0)) {
      printf("key %s: read %d \"%s\", expected \"%s\"\n", path, n, n >= 0 ? buf : "", value);
      break;
    }
  }
  CHECK_EQ(write_errors, 0);
  CHECK_EQ(read_errors, 0);
  CHECK_EQ(xs_rm(XBT_NIL, "data/xsbench"), 0);

  uint64_t wns = t1 - t0, rns = t2 - t1;
  if (wns == 0) wns = 1;
  if (rns == 0) rns = 1;
  printf("xsbench ops=%llu keys=%llu write_ns=%llu read_ns=%llu write_ns_per_op=%llu read_ns_per_op=%llu "
         "write_ops_per_s=%llu read_ops_per_s=%llu\n",
         ops, keys, (unsigned long long)wns, (unsigned long long)rns, (unsigned long long)(wns / ops),
         (unsigned long long)(rns / ops), (unsigned long long)(ops * NSEC_PER_SEC / wns),
         (unsigned long long)(ops * NSEC_PER_SEC / rns));
  test_done();
}
