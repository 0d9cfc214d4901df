/* sweep.c: the 32-bit calls whose structs have the same layout in both ABIs (no xen_ulong_t,
 * xen_pfn_t or handle in them), called from 32-bit mode with valid and invalid arguments. */
#include "compat32.h"

void test_sweep32(void) {
  static struct vcpu_set_periodic_timer pt;
  pt.period_ns = 10 * 1000 * 1000;
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, p32(&pt)), 0);
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0), 0);
  pt.period_ns = 1; /* below Xen's minimum */
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, p32(&pt)), -XEN_EINVAL);

  static struct vcpu_register_vcpu_info ri;
  ri.mfn = 1ull << 40; /* no such frame: the 64-bit gfn is read whole from 32-bit mode */
  ri.offset = 0;
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, p32(&ri)), -XEN_EINVAL);
  ri.mfn = 0x1000;
  ri.offset = 4096 - 32; /* the 64 bytes would cross the page */
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, p32(&ri)), -XEN_EINVAL);
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 999, p32(&ri)), -XEN_ENOENT);

  static struct xen_hvm_evtchn_upcall_vector uv;
  uv.vcpu = 0;
  uv.vector = 0x0f;
  CHECK_EQ(hc32(__HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, p32(&uv), 0), -XEN_EINVAL);
  uv.vcpu = 999;
  uv.vector = PVKVM_UPCALL_VECTOR;
  CHECK_EQ(hc32(__HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, p32(&uv), 0), -XEN_ENOENT);

  static struct sched_watchdog wd;
  wd.id = 0;
  wd.timeout = 3600;
  long id = hc32(__HYPERVISOR_sched_op, SCHEDOP_watchdog, p32(&wd), 0);
  CHECK(id >= 1);
  wd.id = (uint32_t)id;
  wd.timeout = 0; /* released */
  CHECK_EQ(hc32(__HYPERVISOR_sched_op, SCHEDOP_watchdog, p32(&wd), 0), 0);
  CHECK_EQ(hc32(__HYPERVISOR_sched_op, SCHEDOP_watchdog, p32(&wd), 0), -XEN_EINVAL); /* gone */
  wd.id = 99;
  CHECK_EQ(hc32(__HYPERVISOR_sched_op, SCHEDOP_watchdog, p32(&wd), 0), -XEN_EINVAL);

  static struct gnttab_swap_grant_ref sw[2];
  sw[0].ref_a = 2;
  sw[0].ref_b = 3;
  sw[1].ref_a = 0xfffffff0u;
  sw[1].ref_b = 2;
  sw[0].status = sw[1].status = 99;
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_swap_grant_ref, p32(sw), 2), 0);
  CHECK_EQ(sw[0].status, GNTST_okay);
  CHECK_EQ(sw[1].status, GNTST_bad_gntref);
  printf("compat32: periodic timer, vcpu_info, upcall vector, watchdog, swap_grant_ref from 32-bit mode\n");
}
