/*
 * compat32: hypercalls made from 32-bit compatibility mode use the 32-bit convention
 * (EAX = nr; args EBX, ECX, EDX, ESI, EDI; result in EAX). The hypervisor must pick the
 * convention from the vCPU's mode at each call.
 */
#include <pvkvm/pvkvm.h>

long call32_hypercall(unsigned long stub, uint32_t a1, uint32_t a2, uint32_t a3);

static long hc32(unsigned nr, uint32_t a1, uint32_t a2, uint32_t a3) {
  return call32_hypercall(pvkvm_hypercall_stub(nr), a1, a2, a3);
}

int main(void) {
  /* Without Xen the fallback stubs also run in 32-bit mode, which checks the mode switch. */
  long v32 = hc32(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
  printf("compat32: xen_version from 32-bit mode = %ld (%#lx)\n", v32, v32);
  if (!pvkvm_xen_present()) {
    CHECK_EQ(v32, -XEN_ENOSYS);
    if (test_failures) test_done();
    test_skip("no Xen hypervisor interface (the 32-bit round trip worked)");
  }

  long v64 = HYPERVISOR_xen_version(XENVER_version, NULL);
  CHECK(v64 > 0);
  CHECK_EQ(v32, v64);

  static const char msg[] = "compat32: hello from 32-bit mode\n";
  CHECK_EQ(hc32(__HYPERVISOR_console_io, CONSOLEIO_write, sizeof(msg) - 1,
                (uint32_t)(uintptr_t)msg),
           0);

  static struct xen_feature_info fi;
  fi.submap_idx = 0;
  fi.submap = 0;
  CHECK_EQ(hc32(__HYPERVISOR_xen_version, XENVER_get_features, (uint32_t)(uintptr_t)&fi, 0), 0);
  CHECK(fi.submap & (1u << XENFEAT_hvm_callback_vector));

  CHECK_EQ(hc32(__HYPERVISOR_xen_version, XENVER_pagesize, 0, 0), 4096);
  CHECK_EQ(hc32(99, 0, 0, 0), -XEN_ENOSYS);

  /* And back in 64-bit mode, the 64-bit convention still applies. */
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, NULL), v64);
  test_done();
}
