/*
 * ops.c (compat32): the sub-ops a 32-bit PVH guest uses, called from compatibility mode and
 * checked against the answers the same calls give in 64-bit mode — event channels, sched_op,
 * vcpu_op timers, hvm_op params and time, set_timer_op's split 64-bit argument, memory_op
 * reservations with 4-byte extents (one list long enough to be continued twice), grant table
 * queries, vm_assist and xen_version — valid and invalid arguments alike.
 */
#include <pvkvm/pvkvm.h>
#include "compat32.h"

static long status_of(uint32_t port, struct evtchn_status *st) {
  st->dom = DOMID_SELF;
  st->port = port;
  return hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_status, p32(st), 0);
}

void test_event_channels32(domid_t self) {
  static struct evtchn_alloc_unbound au;
  au.dom = DOMID_SELF;
  au.remote_dom = self;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, p32(&au), 0), 0);
  uint32_t unbound = au.port;
  CHECK(unbound > 0);

  static struct evtchn_bind_interdomain bi;
  bi.remote_dom = DOMID_SELF;
  bi.remote_port = unbound;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, p32(&bi), 0), 0);
  uint32_t local = bi.local_port;
  CHECK(local > 0 && local != unbound);
  bi.remote_port = unbound; /* bound now: a second bind is refused */
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, p32(&bi), 0), -XEN_EINVAL);

  static struct evtchn_status st;
  CHECK_EQ(status_of(local, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
  CHECK_EQ(st.u_virq & 0xffff, self); /* u.interdomain.dom */
  CHECK_EQ(st.u_interdomain_port, unbound);
  CHECK_EQ(status_of(1u << 20, &st), -XEN_EINVAL);

  static struct evtchn_send sd;
  sd.port = local;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_send, p32(&sd), 0), 0);
  sd.port = 0;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_send, p32(&sd), 0), -XEN_EINVAL);

  static struct evtchn_bind_vcpu bv;
  bv.port = local;
  bv.vcpu = 0;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_vcpu, p32(&bv), 0), 0);
  bv.vcpu = 999;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_vcpu, p32(&bv), 0), -XEN_ENOENT);

  static struct evtchn_unmask um;
  um.port = local;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_unmask, p32(&um), 0), 0);

  static struct evtchn_bind_ipi ipi;
  ipi.vcpu = 0;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, p32(&ipi), 0), 0);
  CHECK(ipi.port > 0);
  ipi.vcpu = 999;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, p32(&ipi), 0), -XEN_ENOENT);

  static struct evtchn_bind_virq bvq;
  bvq.virq = VIRQ_DEBUG;
  bvq.vcpu = 0;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, p32(&bvq), 0), 0);
  uint32_t virq_port = bvq.port;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, p32(&bvq), 0), -XEN_EEXIST);
  CHECK_EQ(status_of(virq_port, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_virq);
  CHECK_EQ(st.u_virq, VIRQ_DEBUG);
  bvq.virq = 99;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, p32(&bvq), 0), -XEN_EINVAL);

  static struct evtchn_close cl;
  const uint32_t ports[] = {local, unbound, ipi.port, virq_port};
  for (unsigned i = 0; i < sizeof ports / sizeof ports[0]; i++) {
    cl.port = ports[i];
    CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_close, p32(&cl), 0), 0);
  }
  cl.port = local;
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, EVTCHNOP_close, p32(&cl), 0), -XEN_EINVAL);
  CHECK_EQ(hc32(__HYPERVISOR_event_channel_op, 99, p32(&cl), 0), -XEN_ENOSYS);
}

void test_sched_vcpu_time32(void) {
  CHECK_EQ(hc32(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0), 0);
  CHECK_EQ(hc32(__HYPERVISOR_sched_op, 99, 0, 0), -XEN_ENOSYS);

  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 0, 0), 1);
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 999, 0), -XEN_ENOENT);
  /* The i386 singleshot timer struct is 12 bytes: a far-future deadline, then cancelled. */
  static struct compat_vcpu_set_singleshot_timer ss;
  ss.timeout_abs_ns = pvkvm_time_ns() + 3600 * NSEC_PER_SEC;
  ss.flags = 0;
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, p32(&ss)), 0);
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_stop_singleshot_timer, 0, 0), 0);
  ss.timeout_abs_ns = 1; /* in the past with VCPU_SSHOTTMR_future: current Xen ignores the flag */
  ss.flags = 1;
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, p32(&ss)), 0);
  CHECK_EQ(hc32(__HYPERVISOR_vcpu_op, VCPUOP_stop_singleshot_timer, 0, 0), 0);

  /* set_timer_op takes a 64-bit deadline as two 32-bit halves (EBX low, ECX high). */
  uint64_t far = pvkvm_time_ns() + 3600 * NSEC_PER_SEC;
  CHECK_EQ(hc32(__HYPERVISOR_set_timer_op, (uint32_t)far, (uint32_t)(far >> 32), 0), 0);
  CHECK_EQ(hc32(__HYPERVISOR_set_timer_op, 0, 0, 0), 0); /* 0 cancels */

  static struct xen_hvm_param hp;
  hp.domid = DOMID_SELF;
  hp.index = HVM_PARAM_STORE_EVTCHN;
  CHECK_EQ(hc32(__HYPERVISOR_hvm_op, HVMOP_get_param, p32(&hp), 0), 0);
  CHECK(hp.value > 0);
  hp.index = 9999;
  CHECK_EQ(hc32(__HYPERVISOR_hvm_op, HVMOP_get_param, p32(&hp), 0), -XEN_EINVAL);
  static struct xen_hvm_get_time gt;
  CHECK_EQ(hc32(__HYPERVISOR_hvm_op, HVMOP_get_time, p32(&gt), 0), 0);
  CHECK(gt.now > 0);

  CHECK_EQ(hc32(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag, 0), 0);
  CHECK_EQ(hc32(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 31, 0), -XEN_EINVAL);
  CHECK_EQ(hc32(__HYPERVISOR_vm_assist, 7, VMASST_TYPE_runstate_update_flag, 0), -XEN_ENOSYS);
}

#define NMANY 2500u              /* more than two runs of the hypervisor's 1024 */
#define MANY_START (12u << 20)   /* above the image, below the SDK's pages at the top of RAM */

void test_memory_and_grants32(void) {
  /* Ballooning with 4-byte extents: give two frames back and take them again. */
  static uint32_t extents[2];
  static uint8_t frames[2][PAGE] __attribute__((aligned(PAGE)));
  extents[0] = gfn_of(frames[0]);
  extents[1] = gfn_of(frames[1]);
  frames[0][0] = 0x77;
  static struct compat_xen_memory_reservation r;
  r.extent_start = p32(extents);
  r.nr_extents = 2;
  r.extent_order = 0;
  r.domid = DOMID_SELF;
  static struct xen_memory_domain md;
  md.domid = DOMID_SELF;
  long before = hc32(__HYPERVISOR_memory_op, XENMEM_current_reservation, p32(&md), 0);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, p32(&r), 0), 2);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_current_reservation, p32(&md), 0), before - 2);
  /* This C runs at CPL 0, in KVM's emulator on this host: a frame given back has no mapping, and
   * reads all-ones as Xen answers an access with no p2m entry. */
  CHECK_EQ(frames[0][0], 0xff);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_populate_physmap, p32(&r), 0), 2);
  CHECK_EQ(frames[0][0], 0); /* back, zeroed */
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_current_reservation, p32(&md), 0), before);
  /* A list longer than the hypervisor does in one run: it yields with a continuation (EBX =
   * cmd | progress << 6, ECX = the struct) and the re-issued 32-bit call finishes the list. */
  static uint32_t many[NMANY];
  for (unsigned i = 0; i < NMANY; i++) many[i] = (uint32_t)(MANY_START / PAGE) + i;
  r.extent_start = p32(many);
  r.nr_extents = NMANY;
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, p32(&r), 0), NMANY);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_current_reservation, p32(&md), 0), before - NMANY);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_populate_physmap, p32(&r), 0), NMANY);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_current_reservation, p32(&md), 0), before);
  /* Progress bits from the caller: extents 2..9 of 10. */
  r.nr_extents = 10;
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_decrease_reservation | (2u << MEMOP_EXTENT_SHIFT), p32(&r), 0), 10);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_current_reservation, p32(&md), 0), before - 8);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_populate_physmap | (2u << MEMOP_EXTENT_SHIFT), p32(&r), 0), 10);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_current_reservation, p32(&md), 0), before);
  r.nr_extents = 1u << 26; /* its progress would not fit above the command: nothing done */
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, p32(&r), 0), 0);
  r.extent_start = p32(extents);
  r.nr_extents = 2;
  r.extent_order = 10;
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, p32(&r), 0), -XEN_EPERM);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_maximum_reservation, p32(&md), 0), before);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_maximum_ram_page, 0, 0), (long)(pvkvm_ram_bytes() >> 12) - 1);

  static struct gnttab_query_size qs;
  qs.dom = DOMID_SELF;
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, p32(&qs), 1), 0);
  CHECK_EQ(qs.status, GNTST_okay);
  CHECK(qs.nr_frames >= 1 && qs.max_nr_frames >= qs.nr_frames);
  qs.dom = 0x7ff0 - 1; /* no such domain */
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, p32(&qs), 1), 0);
  CHECK_EQ(qs.status, GNTST_bad_domain);
  static struct gnttab_get_version gv;
  gv.dom = DOMID_SELF;
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_get_version, p32(&gv), 1), 0);
  CHECK_EQ(gv.version, 1);
  static struct gnttab_set_version sv;
  sv.version = 2;
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, p32(&sv), 1), -XEN_ENOSYS);
  CHECK_EQ(sv.version, 1);
}

void test_xen_version32(void) {
  static char buf[1024];
  CHECK_EQ(hc32(__HYPERVISOR_xen_version, XENVER_extraversion, p32(buf), 0), 0);
  CHECK(buf[0] != 0);
  CHECK_EQ(hc32(__HYPERVISOR_xen_version, XENVER_capabilities, p32(buf), 0), 0);
  CHECK(buf[0] != 0);
  CHECK_EQ(hc32(__HYPERVISOR_xen_version, XENVER_changeset, p32(buf), 0), 0);
  CHECK_EQ(hc32(__HYPERVISOR_xen_version, XENVER_compile_info, p32(buf), 0), 0);
  CHECK_EQ(hc32(__HYPERVISOR_xen_version, XENVER_guest_handle, p32(buf), 0), 0);
  CHECK_EQ(hc32(__HYPERVISOR_xen_version, XENVER_commandline, p32(buf), 0), 0);
  CHECK_EQ(hc32(__HYPERVISOR_xen_version, 99, 0, 0), -XEN_ENOSYS);
}
