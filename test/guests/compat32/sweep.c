/* sweep.c: the 32-bit calls whose structs have the same layout in both ABIs (no xen_ulong_t,
 * xen_pfn_t or handle in them), called from 32-bit mode with valid and invalid arguments. */
#include "compat32.h"

#define MAP_AT PVKVM_GNTTAB_MAP_BASE /* guest-physical space that is not RAM, for grant maps */

static uint8_t granted[PAGE] __attribute__((aligned(PAGE)));

static int16_t map32(domid_t dom, uint32_t ref, uint64_t host_addr, uint32_t flags, uint32_t *handle) {
  static struct compat_gnttab_map_grant_ref m;
  memset(&m, 0, sizeof(m));
  m.host_addr = host_addr;
  m.flags = flags;
  m.ref = ref;
  m.dom = dom;
  m.handle = 0xdead;
  m.status = 0x55;
  m.dev_bus_addr = 0x5a5a5a5a5a5a5a5aull;
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, p32(&m), 1), 0);
  if (m.status == GNTST_okay) CHECK_EQ(m.dev_bus_addr, 0); /* no IOMMU: written back as 0 */
  if (handle) *handle = m.handle;
  return m.status;
}

static int16_t unmap32(uint32_t handle, uint64_t host_addr, uint64_t dev_bus_addr) {
  static struct compat_gnttab_unmap_grant_ref u;
  u.host_addr = host_addr;
  u.dev_bus_addr = dev_bus_addr;
  u.handle = handle;
  u.status = 0x55;
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_unmap_grant_ref, p32(&u), 1), 0);
  return u.status;
}

/* GNTTABOP_map_grant_ref / unmap_grant_ref from 32-bit mode: their u64 fields sit at the same
 * offsets in the i386 layout (32- and 24-byte structs), so a batch strides the same way. */
static void grant_map32(domid_t self) {
  long ref = gnttab_grant_access(self, gfn_of(granted), 0);
  REQUIRE(ref > 0);
  ((volatile uint32_t *)granted)[3] = 0x32323232;
  uint32_t h = 0;
  CHECK_EQ(map32(0x7000, (uint32_t)ref, MAP_AT, GNTMAP_host_map, NULL), GNTST_bad_domain);
  CHECK_EQ(map32(self, 0xfffff, MAP_AT, GNTMAP_host_map, NULL), GNTST_bad_gntref);
  CHECK_EQ(map32(self, 100, MAP_AT, GNTMAP_host_map, NULL), GNTST_general_error); /* never granted */
  CHECK_EQ(map32(self, (uint32_t)ref, MAP_AT, GNTMAP_host_map | GNTMAP_device_map, NULL), GNTST_general_error);
  REQUIRE(map32(self, (uint32_t)ref, MAP_AT, GNTMAP_host_map, &h) == GNTST_okay);
  volatile uint32_t *mapped = (volatile uint32_t *)(uintptr_t)MAP_AT;
  CHECK_EQ(mapped[3], 0x32323232); /* the granted page, seen through the mapping */
  mapped[4] = 0x600df00d;
  CHECK_EQ(((volatile uint32_t *)granted)[4], 0x600df00d);
  CHECK_EQ(gnttab_end_access((grant_ref_t)ref), -XEN_EBUSY); /* mapped: in use */
  CHECK_EQ(unmap32(h, MAP_AT, 1), GNTST_general_error);     /* a bus address we never gave */
  CHECK_EQ(unmap32(h, MAP_AT + PAGE, 0), GNTST_general_error); /* not where it is mapped */
  CHECK_EQ(unmap32(h + 1000, MAP_AT, 0), GNTST_bad_handle);
  CHECK_EQ(unmap32(h, MAP_AT, 0), GNTST_okay);
  CHECK_EQ(unmap32(h, MAP_AT, 0), GNTST_bad_handle); /* already gone */

  /* A batch of two in the 32-byte stride: a bad reference, then a good one. */
  static struct compat_gnttab_map_grant_ref two[2];
  memset(two, 0, sizeof(two));
  two[0].host_addr = MAP_AT;
  two[0].flags = GNTMAP_host_map;
  two[0].ref = 0xfffff;
  two[0].dom = self;
  two[1] = two[0];
  two[1].ref = (uint32_t)ref;
  two[1].flags = GNTMAP_host_map | GNTMAP_readonly;
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, p32(two), 2), 0);
  CHECK_EQ(two[0].status, GNTST_bad_gntref);
  CHECK_EQ(two[1].status, GNTST_okay);
  CHECK_EQ(unmap32(two[1].handle, MAP_AT, 0), GNTST_okay);
  CHECK_EQ(gnttab_end_access((grant_ref_t)ref), 0);
  printf("compat32: map_grant_ref and unmap_grant_ref from 32-bit mode\n");
}

void test_sweep32(domid_t self) {
  grant_map32(self);
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
