/*
 * xenstore: the guest's xenstore client against dom0's xenstored (needs dom0; without a store
 * ring it reports FAILURE at once).
 *
 * Checks, in order (relative paths are under /local/domain/<domid>):
 *   - xs_init; `domid` reads back as pvkvm_domid(); GET_DOMAIN_PATH gives /local/domain/<domid>;
 *   - data/test = "hello" reads back (and a short buffer truncates, returning the full length);
 *   - mkdir data/dir, DIRECTORY of data lists test and dir, rm data/dir → ENOENT;
 *   - a missing key → ENOENT; /local/domain/0 (dom0's, perms n0) → EACCES;
 *   - set_perms data/test to [n<domid>, r0], get_perms returns exactly that;
 *   - a transaction writing data/tx-a and data/tx-b commits (retried on EAGAIN); an aborted one
 *     leaves no data/tx-aborted;
 *   - WATCH data/watched (token "tok") fires once at once with path "data/watched" and token
 *     "tok", again after a write, and not after UNWATCH;
 *   - the handshake with the test harness:
 *       1. watch data/from-dom0 (token "from-dom0"),
 *       2. write data/ready = "1",
 *       3. wait for events on that watch until data/from-dom0 can be read (the harness writes it
 *          after it sees data/ready),
 *       4. write data/echo = the value read and print `from-dom0: <value>`,
 *       5. stay until the harness writes data/done (it has read data/echo: the guest's nodes go
 *          with the domain) or the timeout passes.
 * Then `Test result: SUCCESS` (if every check held) and poweroff.
 * Options: timeout_ms=T for the handshake wait (default 30000).
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/xenstore.h>

#define MS NSEC_PER_MSEC

static int tx_two_keys(xs_transaction_t t, void *arg) {
  int rc = xs_write(t, "data/tx-a", "1");
  if (rc == 0) rc = xs_write(t, "data/tx-b", "2");
  return rc;
}

/* Is `name` one of the n NUL-separated names in list? */
static int listed(const char *list, int n, const char *name) {
  for (const char *p = list; n-- > 0; p += strlen(p) + 1)
    if (strcmp(p, name) == 0) return 1;
  return 0;
}

int main(void) {
  REQUIRE_XEN();
  int rc = xs_init();
  if (rc < 0) {
    printf("xs_init failed: %d (no xenstore for this domain?)\n", rc);
    test_exit(TEST_FAILURE);
  }
  printf("xenstore: ring ready, port %u\n", xs_port());
  int domid = pvkvm_domid();
  REQUIRE(domid >= 0);
  char buf[256], expect[64];

  /* domid, domain path */
  int n = xs_read(XBT_NIL, "domid", buf, sizeof(buf));
  printf("domid key: %d \"%s\" (CPUID says %d)\n", n, n >= 0 ? buf : "", domid);
  if (CHECK(n > 0)) CHECK_EQ(strtoull(buf, NULL, 10), domid);
  snprintf(expect, sizeof(expect), "/local/domain/%d", domid);
  n = xs_get_domain_path((unsigned)domid, buf, sizeof(buf));
  CHECK_EQ(n, (long long)strlen(expect));
  if (n > 0) CHECK(strcmp(buf, expect) == 0);

  /* write, read back, truncation */
  CHECK_EQ(xs_write(XBT_NIL, "data/test", "hello"), 0);
  n = xs_read(XBT_NIL, "data/test", buf, sizeof(buf));
  CHECK_EQ(n, 5);
  CHECK(n == 5 && strcmp(buf, "hello") == 0);
  char small[3];
  CHECK_EQ(xs_read(XBT_NIL, "data/test", small, sizeof(small)), 5);
  CHECK(strcmp(small, "he") == 0);

  /* mkdir, directory, rm */
  CHECK_EQ(xs_mkdir(XBT_NIL, "data/dir"), 0);
  n = xs_directory(XBT_NIL, "data", buf, sizeof(buf));
  printf("directory data: %d entries\n", n);
  CHECK(n >= 2);
  if (n >= 2) {
    CHECK(listed(buf, n, "test"));
    CHECK(listed(buf, n, "dir"));
  }
  CHECK_EQ(xs_directory(XBT_NIL, "data", buf, 2), -XEN_E2BIG);
  CHECK_EQ(xs_rm(XBT_NIL, "data/dir"), 0);
  CHECK_EQ(xs_read(XBT_NIL, "data/dir", buf, sizeof(buf)), -XEN_ENOENT);

  /* errors */
  CHECK_EQ(xs_read(XBT_NIL, "data/no-such-key", buf, sizeof(buf)), -XEN_ENOENT);
  CHECK_EQ(xs_read(XBT_NIL, "/local/domain/0", buf, sizeof(buf)), -XEN_EACCES);

  /* permissions */
  struct xs_permissions set[2] = {{(uint32_t)domid, XS_PERM_NONE}, {0, XS_PERM_READ}};
  CHECK_EQ(xs_set_perms(XBT_NIL, "data/test", set, 2), 0);
  struct xs_permissions got[4];
  n = xs_get_perms(XBT_NIL, "data/test", got, 4);
  CHECK_EQ(n, 2);
  if (n == 2) {
    CHECK_EQ(got[0].id, domid);
    CHECK_EQ(got[0].perms, XS_PERM_NONE);
    CHECK_EQ(got[1].id, 0);
    CHECK_EQ(got[1].perms, XS_PERM_READ);
  }

  /* transactions */
  CHECK_EQ(xs_transaction(tx_two_keys, NULL, 0), 0);
  CHECK_EQ(xs_read(XBT_NIL, "data/tx-a", buf, sizeof(buf)), 1);
  CHECK(strcmp(buf, "1") == 0);
  CHECK_EQ(xs_read(XBT_NIL, "data/tx-b", buf, sizeof(buf)), 1);
  CHECK(strcmp(buf, "2") == 0);
  xs_transaction_t t = 0;
  if (CHECK_EQ(xs_transaction_start(&t), 0)) {
    CHECK(t != XBT_NIL);
    CHECK_EQ(xs_write(t, "data/tx-aborted", "x"), 0);
    CHECK_EQ(xs_read(t, "data/tx-aborted", buf, sizeof(buf)), 1); /* visible inside */
    CHECK_EQ(xs_transaction_end(t, 0), 0);
  }
  CHECK_EQ(xs_read(XBT_NIL, "data/tx-aborted", buf, sizeof(buf)), -XEN_ENOENT);

  /* watches */
  char path[128], token[32];
  CHECK_EQ(xs_watch("data/watched", "tok"), 0);
  rc = xs_wait_watch(path, sizeof(path), token, sizeof(token), 5000 * MS);
  CHECK_EQ(rc, 0);
  if (rc == 0) {
    printf("first fire: path \"%s\" token \"%s\"\n", path, token);
    CHECK(strcmp(path, "data/watched") == 0);
    CHECK(strcmp(token, "tok") == 0);
  }
  CHECK_EQ(xs_write(XBT_NIL, "data/watched", "x"), 0);
  rc = xs_wait_watch(path, sizeof(path), token, sizeof(token), 5000 * MS);
  CHECK_EQ(rc, 0);
  if (rc == 0) CHECK(strcmp(path, "data/watched") == 0 && strcmp(token, "tok") == 0);
  CHECK_EQ(xs_unwatch("data/watched", "tok"), 0);
  CHECK_EQ(xs_write(XBT_NIL, "data/watched", "y"), 0);
  CHECK_EQ(xs_wait_watch(path, sizeof(path), token, sizeof(token), 200 * MS), -XEN_ETIMEDOUT);
  CHECK_EQ(xs_watch_events_dropped(), 0);

  /* the handshake with the harness */
  uint64_t timeout = pvkvm_cmdline_ull("timeout_ms", 30000) * MS;
  uint64_t deadline = pvkvm_time_ns() + timeout;
  REQUIRE(xs_watch("data/from-dom0", "from-dom0") == 0);
  REQUIRE(xs_write(XBT_NIL, "data/ready", "1") == 0);
  printf("xenstore: data/ready written, waiting for data/from-dom0\n");
  char value[128];
  for (;;) {
    uint64_t now = pvkvm_time_ns();
    if (now >= deadline) {
      printf("no data/from-dom0 within %llu ms\n", (unsigned long long)(timeout / MS));
      test_exit(TEST_FAILURE);
    }
    rc = xs_wait_watch_token("from-dom0", path, sizeof(path), deadline - now);
    if (rc == -XEN_ETIMEDOUT) continue;
    REQUIRE(rc == 0);
    n = xs_read(XBT_NIL, "data/from-dom0", value, sizeof(value));
    if (n == -XEN_ENOENT) continue; /* the immediate first fire, or not written yet */
    REQUIRE(n >= 0 && (size_t)n < sizeof(value));
    break;
  }
  CHECK_EQ(xs_unwatch("data/from-dom0", "from-dom0"), 0);
  CHECK_EQ(xs_write(XBT_NIL, "data/echo", value), 0);
  printf("from-dom0: %s\n", value);
  REQUIRE(xs_watch("data/done", "done") == 0);
  deadline = pvkvm_time_ns() + timeout;
  while (xs_read(XBT_NIL, "data/done", value, sizeof(value)) == -XEN_ENOENT) {
    uint64_t now = pvkvm_time_ns();
    if (now >= deadline) break; /* nobody acknowledges: the echo is still written */
    xs_wait_watch_token("done", path, sizeof(path), deadline - now);
  }
  test_done();
}
