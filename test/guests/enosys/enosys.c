/* enosys: hypercall numbers and sub-ops a PVH guest may not use return -XEN_ENOSYS; the privileged
 * calls that exist in Xen's HVM table refuse a domU with -XEN_EPERM, as Xen's default policy does. */
#include <pvkvm/pvkvm.h>

int main(void) {
  REQUIRE_XEN();
  static const unsigned unknown[] = {__HYPERVISOR_set_trap_table, 11, 50, 127};
  for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
    printf("hypercall %u\n", unknown[i]);
    CHECK_EQ(hypercall5(unknown[i], 0, 0, 0, 0, 0), -XEN_ENOSYS);
  }
  static const unsigned privileged[] = {__HYPERVISOR_sysctl, __HYPERVISOR_domctl, __HYPERVISOR_platform_op,
                                        __HYPERVISOR_dm_op, __HYPERVISOR_hypfs_op};
  for (unsigned i = 0; i < sizeof(privileged) / sizeof(privileged[0]); i++) {
    printf("privileged hypercall %u\n", privileged[i]);
    CHECK_EQ(hypercall5(privileged[i], 0, 0, 0, 0, 0), -XEN_EPERM);
  }
  CHECK_EQ(hypercall5(__HYPERVISOR_xenpmu_op, 0, 0, 0, 0, 0), -XEN_EOPNOTSUPP);
  CHECK_EQ(HYPERVISOR_sched_op(99, NULL), -XEN_ENOSYS);
  CHECK_EQ(HYPERVISOR_xen_version(99, NULL), -XEN_ENOSYS);
  uint64_t machphys[3] = {0}; /* xen_machphys_mapping: v_start, v_end, max_mfn */
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_machphys_mapping, machphys), -XEN_ENOSYS);
  /* Still alive and well. */
  CHECK(HYPERVISOR_xen_version(XENVER_version, NULL) > 0);
  test_done();
}
