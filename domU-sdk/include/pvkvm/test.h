/*
 * pvkvm/test.h: conventions for test guests. A test prints exactly one line
 * `Test result: SUCCESS|SKIP|ERROR|FAILURE` and powers off.
 *
 *   CHECK(expr)        records a failure (printing the expression and line) and carries on
 *   CHECK_EQ(a, b)     the same for an integer comparison, printing both values
 *   REQUIRE(expr)      on failure prints and ends the test with FAILURE at once
 *   REQUIRE_XEN()      ends the test with SKIP when not running on Xen/pvkvm
 *   test_done()        SUCCESS if no check failed, else FAILURE; then power off
 */
#ifndef PVKVM_TEST_H
#define PVKVM_TEST_H
#include <pvkvm/console.h>
#include <pvkvm/hypercall.h>

enum pvkvm_test_result { TEST_SUCCESS, TEST_SKIP, TEST_ERROR, TEST_FAILURE };

extern unsigned test_failures;

/* Print the result line (only the first call prints). */
void test_result(enum pvkvm_test_result r);
/* Print the result line and power off. */
void test_exit(enum pvkvm_test_result r) __attribute__((noreturn));
void test_done(void) __attribute__((noreturn));
void test_skip(const char *why) __attribute__((noreturn));

void test_check_failed(const char *file, int line, const char *expr);
void test_check_eq_failed(const char *file, int line, const char *a, const char *b, long long va,
                          long long vb);

#define CHECK(e)                                                 \
  ({                                                             \
    int _check_ok = !!(e);                                       \
    if (!_check_ok) test_check_failed(__FILE__, __LINE__, #e);   \
    _check_ok;                                                   \
  })

#define CHECK_EQ(a, b)                                                        \
  ({                                                                          \
    long long _check_a = (long long)(a), _check_b = (long long)(b);           \
    if (_check_a != _check_b)                                                 \
      test_check_eq_failed(__FILE__, __LINE__, #a, #b, _check_a, _check_b);   \
    _check_a == _check_b;                                                     \
  })

#define REQUIRE(e)                                  \
  do {                                              \
    if (!(e)) {                                     \
      test_check_failed(__FILE__, __LINE__, #e);    \
      test_exit(TEST_FAILURE);                      \
    }                                               \
  } while (0)

#define REQUIRE_XEN()                                                   \
  do {                                                                  \
    if (!pvkvm_xen_present()) test_skip("no Xen hypervisor interface"); \
  } while (0)

#endif
