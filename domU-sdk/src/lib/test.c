/* test.c: the one-line result protocol of test guests. */
#include <pvkvm/console.h>
#include <pvkvm/start.h>
#include <pvkvm/test.h>

unsigned test_failures;
static int result_printed;

static const char *const result_names[] = {"SUCCESS", "SKIP", "ERROR", "FAILURE"};

void test_result(enum pvkvm_test_result r) {
  if (result_printed) return;
  result_printed = 1;
  printf("Test result: %s\n", (unsigned)r < 4 ? result_names[r] : "ERROR");
  console_flush();
}

void test_exit(enum pvkvm_test_result r) {
  test_result(r);
  pvkvm_shutdown(SHUTDOWN_poweroff);
}

void test_done(void) { test_exit(test_failures ? TEST_FAILURE : TEST_SUCCESS); }

void test_skip(const char *why) {
  printf("skipping: %s\n", why);
  test_exit(TEST_SKIP);
}

void test_check_failed(const char *file, int line, const char *expr) {
  __atomic_fetch_add(&test_failures, 1, __ATOMIC_RELAXED); /* any vCPU */
  printf("CHECK failed at %s:%d: %s\n", file, line, expr);
}

void test_check_eq_failed(const char *file, int line, const char *a, const char *b, long long va,
                          long long vb) {
  __atomic_fetch_add(&test_failures, 1, __ATOMIC_RELAXED); /* any vCPU */
  printf("CHECK failed at %s:%d: %s == %s (%lld [%#llx] != %lld [%#llx])\n", file, line, a, b, va,
         (unsigned long long)va, vb, (unsigned long long)vb);
}
