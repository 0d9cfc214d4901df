/* multicall: a batch of four calls, each with its own result; the multicall itself returns 0. */
#include <pvkvm/pvkvm.h>

int main(void) {
  REQUIRE_XEN();
  static const char msg[] = "multicall: console_io from inside a multicall\n";
  static struct multicall_entry calls[4];
  for (unsigned i = 0; i < 4; i++) calls[i].result = 0x5a5a5a5a5a5a5a5aULL;
  calls[0].op = __HYPERVISOR_xen_version;
  calls[0].args[0] = XENVER_version;
  calls[1].op = __HYPERVISOR_xen_version;
  calls[1].args[0] = XENVER_pagesize;
  calls[2].op = 99; /* no such hypercall */
  calls[3].op = __HYPERVISOR_console_io;
  calls[3].args[0] = CONSOLEIO_write;
  calls[3].args[1] = sizeof(msg) - 1;
  calls[3].args[2] = (uint64_t)(uintptr_t)msg;

  CHECK_EQ(HYPERVISOR_multicall(calls, 4), 0);
  for (unsigned i = 0; i < 4; i++)
    printf("entry %u: op %llu result %lld\n", i, (unsigned long long)calls[i].op,
           (long long)calls[i].result);
  CHECK_EQ(calls[0].result, HYPERVISOR_xen_version(XENVER_version, NULL));
  CHECK_EQ(calls[1].result, 4096);
  CHECK_EQ(calls[2].result, -XEN_ENOSYS);
  CHECK_EQ(calls[3].result, 0);
  test_done();
}
