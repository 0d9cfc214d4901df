/*
 * compat32: hypercalls made from 32-bit compatibility mode use the 32-bit convention
 * (EAX = nr; args EBX, ECX, EDX, ESI, EDI; result in EAX) and the i386 argument layouts
 * (struct compat_*: xen_ulong_t, xen_pfn_t and handles are 4 bytes). The hypervisor must pick
 * both from the vCPU's mode at each call. Covered from 32-bit mode: add_to_physmap of
 * shared_info (in the 64-bit and then the 32-bit shared_info layout) and of a grant frame,
 * grant copy and setup_table, multicall, memory_map, current_reservation, sched_poll and
 * platform_parameters; ops.c covers the other sub-ops (event channels, sched/vcpu/hvm ops, timers,
 * ballooning, grant queries, vm_assist, xen_version).
 */
#include <pvkvm/pvkvm.h>
#include "compat32.h"

/* Switches to compatibility mode and calls the hypercall page itself: code for CPL 0. */
PVKVM_SDK_MODE(kernel);
static uint8_t si_pages[2][PAGE] __attribute__((aligned(PAGE)));
static uint8_t src[PAGE] __attribute__((aligned(PAGE)));
static uint8_t dst[PAGE] __attribute__((aligned(PAGE)));

static long place32(unsigned space, uint32_t idx, uint32_t gpfn) {
  static struct compat_xen_add_to_physmap x;
  memset(&x, 0, sizeof(x));
  x.domid = DOMID_SELF;
  x.space = space;
  x.idx = idx;
  x.gpfn = gpfn;
  return hc32(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, p32(&x), 0);
}

/* The hypercall page was installed from 64-bit mode, so shared_info has the 64-bit layout. */
static void test_shared_info_native_layout(void) {
  CHECK_EQ(place32(XENMAPSPACE_shared_info, 1, gfn_of(si_pages[0])), -XEN_EINVAL); /* only idx 0 */
  CHECK_EQ(place32(XENMAPSPACE_shared_info, 0, gfn_of(si_pages[0])), 0);
  volatile struct shared_info *si = (volatile struct shared_info *)si_pages[0];
  uint32_t version = si->wc_version;
  printf("compat32: shared_info placed from 32-bit mode, wc_version %u wc_sec %u\n", version, si->wc_sec);
  CHECK(version != 0 && (version & 1) == 0);
  CHECK(si->wc_sec > 1600000000u);
}

/* Setting HVM_PARAM_CALLBACK_IRQ from 32-bit mode latches the i386 shared_info layout. */
static void test_shared_info_compat_layout(void) {
  static struct xen_hvm_param p;
  p.domid = DOMID_SELF;
  p.index = HVM_PARAM_CALLBACK_IRQ;
  p.value = 0;
  CHECK_EQ(hc32(__HYPERVISOR_hvm_op, HVMOP_set_param, p32(&p), 0), 0);
  memset(si_pages[1], 0, PAGE);
  CHECK_EQ(place32(XENMAPSPACE_shared_info, 0, gfn_of(si_pages[1])), 0);
  volatile struct compat_shared_info *si = (volatile struct compat_shared_info *)si_pages[1];
  uint32_t version = si->wc_version;
  printf("compat32: compat shared_info wc_version %u wc_sec %u\n", version, si->wc_sec);
  CHECK(version != 0 && (version & 1) == 0);
  CHECK(si->wc_sec > 1600000000u);
  CHECK_EQ(si->arch_wc_sec_hi, 0);
}

static void test_grants(domid_t self) {
  REQUIRE(gnttab_init() == 0); /* query_size, set_version, frame 0 placed from 64-bit mode */

  /* setup_table: a 4-byte frame list; the grown, unplaced frame 1 has no GFN (~0, truncated). */
  static uint32_t frames[4];
  static struct compat_gnttab_setup_table st;
  for (unsigned i = 0; i < 4; i++) frames[i] = 0x1234;
  st.dom = DOMID_SELF;
  st.nr_frames = 2;
  st.frame_list = p32(frames);
  st.status = 0x55;
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, p32(&st), 1), 0);
  CHECK_EQ(st.status, GNTST_okay);
  CHECK_EQ(frames[0], PVKVM_GNTTAB_GFN);
  CHECK_EQ(frames[1], 0xffffffffu);
  CHECK_EQ(frames[2], 0x1234); /* 4-byte entries: nothing written past nr_frames */
  /* A grant frame placed from 32-bit mode. */
  CHECK_EQ(place32(XENMAPSPACE_grant_table, 1, PVKVM_GNTTAB_GFN + 1), 0);
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, p32(&st), 1), 0);
  CHECK_EQ(st.status, GNTST_okay);
  CHECK_EQ(frames[1], PVKVM_GNTTAB_GFN + 1);
  CHECK_EQ(gnttab_grow(2), 0); /* the SDK maps frame 1 again, at the same GFN */

  /* copy: from our own grant, local to local, and one with a bad length, in one 24-byte-stride batch. */
  for (unsigned i = 0; i < PAGE; i++) src[i] = (uint8_t)(i * 13 + 5);
  memset(dst, 0, PAGE);
  long ref = gnttab_grant_access(self, gfn_of(src), 1);
  REQUIRE(ref > 0);
  static struct compat_gnttab_copy ops[3];
  memset(ops, 0, sizeof(ops));
  ops[0].source_u_ref = (uint32_t)ref;
  ops[0].source_domid = self;
  ops[0].source_offset = 16;
  ops[0].dest_u_gmfn = gfn_of(dst);
  ops[0].dest_domid = DOMID_SELF;
  ops[0].dest_offset = 32;
  ops[0].len = 100;
  ops[0].flags = GNTCOPY_source_gref;
  ops[1].source_u_gmfn = gfn_of(src);
  ops[1].source_domid = DOMID_SELF;
  ops[1].source_offset = 1000;
  ops[1].dest_u_gmfn = gfn_of(dst);
  ops[1].dest_domid = DOMID_SELF;
  ops[1].dest_offset = 2000;
  ops[1].len = 50;
  ops[2] = ops[1];
  ops[2].len = PAGE;
  for (unsigned i = 0; i < 3; i++) ops[i].status = 0x55;
  CHECK_EQ(hc32(__HYPERVISOR_grant_table_op, GNTTABOP_copy, p32(ops), 3), 0);
  CHECK_EQ(ops[0].status, GNTST_okay);
  CHECK_EQ(memcmp(dst + 32, src + 16, 100), 0);
  CHECK_EQ(ops[1].status, GNTST_okay);
  CHECK_EQ(memcmp(dst + 2000, src + 1000, 50), 0);
  CHECK_EQ(ops[2].status, GNTST_bad_copy_arg);
  CHECK_EQ(dst[31], 0);
  CHECK_EQ(dst[132], 0);
  CHECK_EQ(gnttab_end_access((grant_ref_t)ref), 0); /* the copy's pin is gone */
}

static void test_memory_ops(void) {
  static struct e820entry map64[8], map32[8];
  struct xen_memory_map mm = {0};
  mm.nr_entries = 8;
  mm.buffer = (uintptr_t)map64;
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &mm), 0);
  static struct compat_xen_memory_map mm32;
  mm32.nr_entries = 8;
  mm32.buffer = p32(map32);
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_memory_map, p32(&mm32), 0), 0);
  CHECK(mm32.nr_entries > 0);
  CHECK_EQ(mm32.nr_entries, mm.nr_entries);
  CHECK_EQ(memcmp(map32, map64, sizeof(map64[0]) * mm.nr_entries), 0);

  static struct xen_memory_domain md;
  md.domid = DOMID_SELF;
  CHECK_EQ(hc32(__HYPERVISOR_memory_op, XENMEM_current_reservation, p32(&md), 0), (long)(pvkvm_ram_bytes() >> 12));
}

static void test_multicall(long version) {
  static struct compat_multicall_entry mc[2];
  memset(mc, 0, sizeof(mc));
  mc[0].op = __HYPERVISOR_xen_version;
  mc[0].args[0] = XENVER_version;
  mc[1].op = __HYPERVISOR_xen_version;
  mc[1].args[0] = 99; /* no such command */
  CHECK_EQ(hc32(__HYPERVISOR_multicall, p32(mc), 2, 0), 0);
  CHECK_EQ(mc[0].result, (uint32_t)version);
  CHECK_EQ(mc[1].result, (uint32_t)-XEN_ENOSYS);
}

static void test_misc(void) {
  /* An already-past timeout and no ports: poll returns at once (the timeout is at offset 8). */
  static struct {
    struct compat_sched_poll poll;
    uint64_t after; /* where the 64-bit layout would look for the timeout: 0 would mean "none" */
  } sp;
  sp.poll.ports = 0;
  sp.poll.nr_ports = 0;
  sp.poll.timeout = 1;
  sp.after = 0;
  CHECK_EQ(hc32(__HYPERVISOR_sched_op, SCHEDOP_poll, p32(&sp.poll), 0), 0);

  static struct compat_xen_platform_parameters pp[2];
  pp[0].virt_start = 0x5a5a5a5a;
  pp[1].virt_start = 0x5a5a5a5a;
  CHECK_EQ(hc32(__HYPERVISOR_xen_version, XENVER_platform_parameters, p32(&pp[0]), 0), 0);
  CHECK_EQ(pp[0].virt_start, 0);
  CHECK_EQ(pp[1].virt_start, 0x5a5a5a5a); /* a 4-byte xen_ulong_t */
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

  int id = pvkvm_domid();
  REQUIRE(id >= 0);
  test_shared_info_native_layout();
  test_grants((domid_t)id);
  test_memory_ops();
  test_multicall(v64);
  test_misc();
  test_event_channels32((domid_t)id);
  test_sched_vcpu_time32();
  test_memory_and_grants32();
  test_xen_version32();
  test_sweep32((domid_t)id);
  /* Last: from here on shared_info has the i386 layout, which the 64-bit SDK does not expect. */
  test_shared_info_compat_layout();

  /* And back in 64-bit mode, the 64-bit convention still applies. */
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, NULL), v64);
  test_done();
}
