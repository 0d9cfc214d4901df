/* conflood: a guest that floods its PV console — mib=N MiB (default 32) of numbered text lines as
 * fast as dom0 takes them — and never reads its input ring. dom0's memory must stay bounded
 * (test/host-faults.test.ts). Output ends "conflood: wrote N bytes" and a test result. */
#include <pvkvm/pvkvm.h>

int main(void) {
  REQUIRE_XEN();
  if (pvconsole_init() != 0) test_exit(TEST_SKIP);
  char arg[16] = "32";
  pvkvm_cmdline_get("mib", arg, sizeof(arg));
  unsigned long long total = strtoull(arg, NULL, 10) << 20;
  static char chunk[4096];
  unsigned long long written = 0, line = 0;
  while (written < total) {
    size_t n = 0;
    while (n + 64 < sizeof(chunk)) {
      int k = snprintf(chunk + n, sizeof(chunk) - n, "conflood line %llu ................................\n", line++);
      n += (size_t)k;
    }
    long w = pvconsole_write(chunk, n);
    if (w != (long)n) {
      printf("conflood: write stalled after %llu bytes (%ld)\n", written, w);
      test_exit(TEST_FAILURE);
    }
    written += n;
  }
  pvconsole_drain(30 * NSEC_PER_SEC);
  printf("conflood: wrote %llu bytes\n", written);
  test_exit(TEST_SUCCESS);
}
