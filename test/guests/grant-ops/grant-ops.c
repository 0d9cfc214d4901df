/*
 * grant-ops: every GNTTABOP an HVM/PVH guest may use, on its own table, with Xen's results
 * (common/grant_table.c, arch/x86/hvm/grant_table.c; docs/xen-abi.md §6): query_size,
 * set/get_version, setup_table and table growth, map/unmap of our own grants (loopback) with
 * read-only enforcement, copy, swap_grant_ref, and every error path.
 *
 * Options: pins=1 also maps one read-only grant 128 times (the pin-counter limit) and checks
 * the 129th is refused; maptrack=1 fills all 1024 mapping handles (GNTST_no_device_space next).
 */
#include <pvkvm/pvkvm.h>

#define NO_DOMAIN 0x7000 /* a domain id nobody has */
#define MAP0 PVKVM_GNTTAB_MAP_BASE
#define UNBACKED 0xD0000000ull /* guest-physical space with nothing behind it */
#define XENMAPIDX_grant_table_status 0x80000000u
#define MAX_FRAMES PVKVM_GNTTAB_MAX_FRAMES
#define PAGE 4096u

static uint8_t pages[6][PAGE] __attribute__((aligned(PAGE)));
static uint64_t frame_list[MAX_FRAMES + 1];
static domid_t self;

static uint64_t gfn_of(const void *p) { return (uintptr_t)p >> 12; }
static volatile uint32_t *at(uint64_t gpa) { return (volatile uint32_t *)(uintptr_t)gpa; }
static uint16_t flags_of(grant_ref_t ref) { return __atomic_load_n(&gnttab_entry(ref)->flags, __ATOMIC_SEQ_CST); }

static long gop(unsigned cmd, void *uop, unsigned count) { return HYPERVISOR_grant_table_op((int)cmd, uop, count); }

static int16_t raw_map(domid_t dom, grant_ref_t ref, uint64_t host_addr, uint32_t flags, grant_handle_t *h) {
  struct gnttab_map_grant_ref m = {0};
  m.host_addr = host_addr;
  m.flags = flags;
  m.ref = ref;
  m.dom = dom;
  m.handle = 0xdead;
  CHECK_EQ(gop(GNTTABOP_map_grant_ref, &m, 1), 0);
  if (h) *h = m.handle;
  return m.status;
}

static int16_t raw_unmap(grant_handle_t h, uint64_t host_addr, uint64_t dev_bus_addr) {
  struct gnttab_unmap_grant_ref u = {0};
  u.host_addr = host_addr;
  u.dev_bus_addr = dev_bus_addr;
  u.handle = h;
  CHECK_EQ(gop(GNTTABOP_unmap_grant_ref, &u, 1), 0);
  return u.status;
}

static int16_t query(domid_t dom, uint32_t *nr, uint32_t *max) {
  struct gnttab_query_size q = {0};
  q.dom = dom;
  q.status = 0x55;
  CHECK_EQ(gop(GNTTABOP_query_size, &q, 1), 0);
  if (nr) *nr = q.nr_frames;
  if (max) *max = q.max_nr_frames;
  return q.status;
}

static int16_t setup(domid_t dom, uint32_t nr, uint64_t *list) {
  struct gnttab_setup_table s = {0};
  s.dom = dom;
  s.nr_frames = nr;
  s.frame_list = (uintptr_t)list;
  s.status = 0x55;
  CHECK_EQ(gop(GNTTABOP_setup_table, &s, 1), 0);
  return s.status;
}

static long place(uint64_t idx, uint64_t gpfn) {
  struct xen_add_to_physmap x = {0};
  x.domid = DOMID_SELF;
  x.space = XENMAPSPACE_grant_table;
  x.idx = idx;
  x.gpfn = gpfn;
  return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);
}

static struct gnttab_copy_side local(const void *page, uint16_t off) {
  return (struct gnttab_copy_side){.is_ref = 0, .ref_or_gfn = gfn_of(page), .domid = DOMID_SELF, .offset = off};
}
static struct gnttab_copy_side gref(domid_t dom, grant_ref_t ref, uint16_t off) {
  return (struct gnttab_copy_side){.is_ref = 1, .ref_or_gfn = ref, .domid = dom, .offset = off};
}

static void fill(uint8_t *p, uint8_t seed) {
  for (unsigned i = 0; i < PAGE; i++) p[i] = (uint8_t)(seed + i * 7);
}
static int same(const volatile uint8_t *a, const uint8_t *b, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

static void test_sizes_and_versions(void) {
  uint32_t nr = 0, max = 0;
  CHECK_EQ(query(DOMID_SELF, &nr, &max), GNTST_okay);
  CHECK_EQ(nr, 1);
  CHECK_EQ(max, MAX_FRAMES);
  CHECK_EQ(query(self, &nr, NULL), GNTST_okay);
  CHECK_EQ(query(NO_DOMAIN, NULL, NULL), GNTST_bad_domain);
  struct gnttab_query_size q2[2] = {{.dom = DOMID_SELF}, {.dom = DOMID_SELF}};
  CHECK_EQ(gop(GNTTABOP_query_size, q2, 2), -XEN_EINVAL);

  struct gnttab_get_version gv = {.dom = DOMID_SELF, .version = 77};
  CHECK_EQ(gop(GNTTABOP_get_version, &gv, 1), 0);
  CHECK_EQ(gv.version, 1);
  gv.dom = NO_DOMAIN;
  CHECK_EQ(gop(GNTTABOP_get_version, &gv, 1), -XEN_ESRCH);

  struct gnttab_set_version sv = {.version = 2};
  CHECK_EQ(gop(GNTTABOP_set_version, &sv, 1), -XEN_ENOSYS); /* v2 is not offered */
  CHECK_EQ(sv.version, 1);                                   /* the version in effect comes back */
  sv.version = 3;
  CHECK_EQ(gop(GNTTABOP_set_version, &sv, 1), -XEN_EINVAL);
  CHECK_EQ(sv.version, 1);
  sv.version = 1;
  CHECK_EQ(gop(GNTTABOP_set_version, &sv, 1), 0);
  CHECK_EQ(sv.version, 1);
}

static void test_setup_and_growth(void) {
  REQUIRE(gnttab_init() == 0);
  CHECK_EQ(gnttab_nr_frames(), 1);
  CHECK_EQ(gnttab_max_frames(), MAX_FRAMES);
  CHECK_EQ(place(XENMAPIDX_grant_table_status | 0, PVKVM_GNTTAB_GFN), -XEN_EINVAL); /* no v2 status frames */
  CHECK_EQ(place(MAX_FRAMES, PVKVM_GNTTAB_GFN + MAX_FRAMES), -XEN_EINVAL);

  struct gnttab_setup_table s2[2] = {{.dom = DOMID_SELF}, {.dom = DOMID_SELF}};
  CHECK_EQ(gop(GNTTABOP_setup_table, s2, 2), -XEN_EINVAL);
  CHECK_EQ(setup(DOMID_SELF, MAX_FRAMES + 1, frame_list), GNTST_general_error);
  CHECK_EQ(setup(NO_DOMAIN, 1, frame_list), GNTST_bad_domain);
  for (unsigned i = 0; i <= MAX_FRAMES; i++) frame_list[i] = 0x1234;
  /* setup_table grows the table and lists each frame's GFN: unplaced frames have none (~0). */
  CHECK_EQ(setup(DOMID_SELF, 2, frame_list), GNTST_okay);
  CHECK_EQ(frame_list[0], PVKVM_GNTTAB_GFN);
  CHECK_EQ(frame_list[1], ~0ull);
  CHECK_EQ(frame_list[2], 0x1234);
  uint32_t nr = 0;
  CHECK_EQ(query(DOMID_SELF, &nr, NULL), GNTST_okay);
  CHECK_EQ(nr, 2);
  CHECK_EQ(setup(DOMID_SELF, 1, (uint64_t *)(uintptr_t)UNBACKED), GNTST_bad_virt_addr);

  /* add_to_physmap beyond the current size grows the table up to that frame. */
  CHECK_EQ(place(4, PVKVM_GNTTAB_GFN + 4), 0);
  CHECK_EQ(query(DOMID_SELF, &nr, NULL), GNTST_okay);
  CHECK_EQ(nr, 5);
  CHECK_EQ(setup(DOMID_SELF, 5, frame_list), GNTST_okay);
  CHECK_EQ(frame_list[2], ~0ull);
  CHECK_EQ(frame_list[4], PVKVM_GNTTAB_GFN + 4);
  CHECK_EQ(gnttab_grow(5), 0); /* the SDK maps frames 1..4 (4 again, at the same GFN) */
  CHECK_EQ(gnttab_nr_frames(), 5);
  CHECK_EQ(setup(DOMID_SELF, 5, frame_list), GNTST_okay);
  for (unsigned i = 0; i < 5; i++) CHECK_EQ(frame_list[i], PVKVM_GNTTAB_GFN + i);

  /* Entries written through one placement survive a move to another GFN. */
  volatile struct grant_entry_v1 *e = gnttab_entry(5 * 512 - 1);
  REQUIRE(e != NULL);
  e->frame = 0xabcdef;
  CHECK_EQ(place(4, gfn_of(pages[5])), 0);
  CHECK_EQ(((volatile struct grant_entry_v1 *)pages[5])[511].frame, 0xabcdef);
  CHECK_EQ(place(4, PVKVM_GNTTAB_GFN + 4), 0);
  CHECK_EQ(e->frame, 0xabcdef);
  e->frame = 0;
}

static void test_loopback_map(void) {
  fill(pages[0], 1);
  long ref = gnttab_grant_access(self, gfn_of(pages[0]), 0);
  CHECK_EQ(ref, GNTTAB_NR_RESERVED_ENTRIES); /* the first reference handed out */
  grant_handle_t h = 0;
  REQUIRE(gnttab_map(self, (grant_ref_t)ref, MAP0, 0, &h) == GNTST_okay);
  CHECK(same((volatile uint8_t *)MAP0, pages[0], PAGE));
  CHECK_EQ(flags_of(ref), GTF_permit_access | GTF_reading | GTF_writing);
  at(MAP0)[10] = 0x600df00d; /* a write through the mapping lands in the granted page */
  CHECK_EQ(((uint32_t *)pages[0])[10], 0x600df00d);
  CHECK_EQ(gnttab_end_access(ref), -XEN_EBUSY); /* in use: revoking must fail */
  CHECK_EQ(flags_of(ref), GTF_permit_access | GTF_reading | GTF_writing);
  CHECK_EQ(gnttab_unmap(h, MAP0), GNTST_okay);
  CHECK_EQ(flags_of(ref), GTF_permit_access);
  CHECK_EQ(at(MAP0)[0], 0xffffffff); /* nothing there any more: unbacked reads are all-ones */
  CHECK_EQ(gnttab_end_access(ref), 0);
  CHECK_EQ(flags_of(ref), 0);
  CHECK_EQ(gnttab_end_access(ref), -XEN_EINVAL); /* already freed */

  /* Two mappings of one entry: the flags stay until the last one goes. */
  ref = gnttab_grant_access(self, gfn_of(pages[0]), 0);
  grant_handle_t h1, h2;
  REQUIRE(gnttab_map(self, ref, MAP0, 1, &h1) == GNTST_okay);
  CHECK_EQ(flags_of(ref), GTF_permit_access | GTF_reading);
  REQUIRE(gnttab_map(self, ref, MAP0 + PAGE, 0, &h2) == GNTST_okay);
  CHECK_EQ(flags_of(ref), GTF_permit_access | GTF_reading | GTF_writing);
  CHECK(h1 != h2);
  CHECK_EQ(gnttab_unmap(h2, MAP0 + PAGE), GNTST_okay);
  CHECK_EQ(flags_of(ref), GTF_permit_access | GTF_reading);
  CHECK_EQ(gnttab_unmap(h1, MAP0), GNTST_okay);
  CHECK_EQ(flags_of(ref), GTF_permit_access);
  CHECK_EQ(gnttab_end_access(ref), 0);
}

static void test_readonly(void) {
  fill(pages[1], 2);
  long ref = gnttab_grant_access(self, gfn_of(pages[1]), 1);
  REQUIRE(ref > 0);
  grant_handle_t h;
  CHECK_EQ(gnttab_map(self, ref, MAP0, 0, &h), GNTST_general_error); /* write-pin of a r/o grant */
  CHECK_EQ(flags_of(ref), GTF_permit_access | GTF_readonly);
  REQUIRE(gnttab_map(self, ref, MAP0, 1, &h) == GNTST_okay);
  CHECK_EQ(flags_of(ref), GTF_permit_access | GTF_readonly | GTF_reading);
  CHECK(same((volatile uint8_t *)MAP0, pages[1], PAGE));
  uint32_t before = ((uint32_t *)pages[1])[3];
  at(MAP0)[3] = ~before; /* dropped: the slot is read-only */
  CHECK_EQ(((uint32_t *)pages[1])[3], before);
  CHECK_EQ(at(MAP0)[3], before);
  CHECK_EQ(gnttab_unmap(h, MAP0), GNTST_okay);
  CHECK_EQ(gnttab_end_access(ref), 0);

  /* A read-only map of a writable grant is read-only too. */
  ref = gnttab_grant_access(self, gfn_of(pages[1]), 0);
  REQUIRE(gnttab_map(self, ref, MAP0, 1, &h) == GNTST_okay);
  at(MAP0)[4] = 0x12345678;
  CHECK(((uint32_t *)pages[1])[4] != 0x12345678);
  CHECK_EQ(gnttab_unmap(h, MAP0), GNTST_okay);
  CHECK_EQ(gnttab_end_access(ref), 0);
}

static void test_map_errors(void) {
  long ref = gnttab_grant_access(self, gfn_of(pages[2]), 0);
  REQUIRE(ref > 0);
  grant_handle_t h;
  CHECK_EQ(raw_map(self, ref, MAP0, 0, &h), GNTST_bad_gntref); /* neither host_map nor device_map */
  CHECK_EQ(h, 0xdead);                                         /* failed maps leave handle alone */
  CHECK_EQ(raw_map(self, ref, MAP0, GNTMAP_host_map | GNTMAP_device_map, NULL), GNTST_general_error);
  CHECK_EQ(raw_map(self, ref, MAP0, GNTMAP_host_map | GNTMAP_contains_pte, NULL), GNTST_general_error);
  CHECK_EQ(raw_map(self, ref, MAP0, GNTMAP_host_map | (1u << 16), NULL), GNTST_general_error);
  CHECK_EQ(raw_map(NO_DOMAIN, ref, MAP0, GNTMAP_host_map, NULL), GNTST_bad_domain);
  CHECK_EQ(raw_map(DOMID_SELF, ref, MAP0, GNTMAP_host_map, NULL), GNTST_bad_domain); /* by number only */
  uint32_t nr = 0;
  query(DOMID_SELF, &nr, NULL);
  CHECK_EQ(raw_map(self, nr * 512, MAP0, GNTMAP_host_map, NULL), GNTST_bad_gntref);
  CHECK_EQ(raw_map(self, 100, MAP0, GNTMAP_host_map, NULL), GNTST_general_error); /* entry never granted */
  CHECK_EQ(raw_map(self, 1, MAP0, GNTMAP_host_map, NULL), GNTST_general_error);   /* reserved, empty */
  /* RAM, or an address already mapped, cannot take a grant mapping; the pin is undone. */
  CHECK_EQ(raw_map(self, ref, (uintptr_t)pages[3], GNTMAP_host_map, NULL), GNTST_general_error);
  CHECK_EQ(flags_of(ref), GTF_permit_access);
  CHECK_EQ(raw_map(self, ref, PVKVM_GNTTAB_GFN << 12, GNTMAP_host_map, NULL), GNTST_general_error);
  REQUIRE(raw_map(self, ref, MAP0, GNTMAP_host_map, &h) == GNTST_okay);
  CHECK_EQ(raw_map(self, ref, MAP0, GNTMAP_host_map, NULL), GNTST_general_error);
  CHECK_EQ(flags_of(ref), GTF_permit_access | GTF_reading | GTF_writing);
  CHECK_EQ(raw_unmap(h, MAP0, 0), GNTST_okay);
  CHECK_EQ(flags_of(ref), GTF_permit_access);

  /* Granted to someone else: refused. */
  volatile struct grant_entry_v1 *e = gnttab_entry(ref);
  e->domid = self + 1000;
  CHECK_EQ(raw_map(self, ref, MAP0, GNTMAP_host_map, NULL), GNTST_general_error);
  CHECK_EQ(raw_map(self, ref, MAP0, GNTMAP_host_map | GNTMAP_readonly, NULL), GNTST_general_error);
  /* Type accept_transfer / transitive / sub_page bits are not a grant to map. */
  e->domid = self;
  e->flags = GTF_accept_transfer;
  CHECK_EQ(raw_map(self, ref, MAP0, GNTMAP_host_map, NULL), GNTST_general_error);
  e->flags = GTF_permit_access | GTF_sub_page;
  CHECK_EQ(raw_map(self, ref, MAP0, GNTMAP_host_map, NULL), GNTST_general_error);
  /* A frame that is not our RAM: bad_page, and no flag is left behind. */
  e->flags = GTF_permit_access;
  e->frame = (uint32_t)(pvkvm_ram_bytes() >> 12);
  CHECK_EQ(raw_map(self, ref, MAP0, GNTMAP_host_map, NULL), GNTST_bad_page);
  CHECK_EQ(flags_of(ref), GTF_permit_access);
  e->frame = PVKVM_GNTTAB_GFN;
  CHECK_EQ(raw_map(self, ref, MAP0, GNTMAP_host_map, NULL), GNTST_bad_page);
  e->frame = (uint32_t)gfn_of(pages[2]);

  /* host_addr is taken by its page number, as Xen does (the offset is ignored). */
  REQUIRE(raw_map(self, ref, MAP0 + 0x123, GNTMAP_host_map, &h) == GNTST_okay);
  at(MAP0)[0] = 0xfeedface;
  CHECK_EQ(((uint32_t *)pages[2])[0], 0xfeedface);

  /* Unmap errors. */
  CHECK_EQ(raw_unmap(5000, MAP0, 0), GNTST_bad_handle);
  CHECK_EQ(raw_unmap(h + 1, MAP0, 0), GNTST_bad_handle);
  CHECK_EQ(raw_unmap(h, MAP0 + PAGE, 0), GNTST_general_error); /* not where it is mapped */
  CHECK_EQ(raw_unmap(h, MAP0, 0x1000), GNTST_general_error);   /* no bus address was given out */
  CHECK_EQ(raw_unmap(h, 0, 0), GNTST_okay);                    /* host_addr 0: nothing unmapped */
  CHECK_EQ(at(MAP0)[0], 0xfeedface);
  CHECK_EQ(flags_of(ref), GTF_permit_access | GTF_reading | GTF_writing);
  CHECK_EQ(raw_unmap(h, MAP0 + 0x456, 0), GNTST_okay);
  CHECK_EQ(raw_unmap(h, MAP0, 0), GNTST_bad_handle); /* already unmapped */
  CHECK_EQ(flags_of(ref), GTF_permit_access);
  CHECK_EQ(gnttab_end_access(ref), 0);
}

static void test_copy(void) {
  fill(pages[3], 3);
  memset(pages[4], 0, PAGE);
  struct gnttab_copy_side s, d;
  /* Local to local (both DOMID_SELF frames). */
  s = local(pages[3], 10);
  d = local(pages[4], 20);
  CHECK_EQ(gnttab_copy_one(&s, &d, 100), GNTST_okay);
  CHECK(same(pages[4] + 20, pages[3] + 10, 100));
  CHECK_EQ(pages[4][19], 0);
  CHECK_EQ(pages[4][120], 0);
  /* Overlapping, within one page: memmove semantics. */
  s = local(pages[3], 0);
  d = local(pages[3], 1);
  uint8_t expect[64];
  memcpy(expect, pages[3], 64);
  CHECK_EQ(gnttab_copy_one(&s, &d, 64), GNTST_okay);
  CHECK(same(pages[3] + 1, expect, 64));

  long rw = gnttab_grant_access(self, gfn_of(pages[4]), 0);
  long ro = gnttab_grant_access(self, gfn_of(pages[3]), 1);
  REQUIRE(rw > 0 && ro > 0);
  memset(pages[4], 0, PAGE);
  /* gref source (read-only grant is enough) to gref dest (needs a writable grant). */
  s = gref(self, ro, 0);
  d = gref(DOMID_SELF, rw, 0);
  CHECK_EQ(gnttab_copy_one(&s, &d, PAGE), GNTST_okay);
  CHECK(same(pages[4], pages[3], PAGE));
  CHECK_EQ(flags_of(rw), GTF_permit_access); /* the copy's pins are gone */
  CHECK_EQ(flags_of(ro), GTF_permit_access | GTF_readonly);
  s = local(pages[4], 0);
  d = gref(self, ro, 0);
  CHECK_EQ(gnttab_copy_one(&s, &d, 8), GNTST_general_error); /* dest grant is read-only */
  d = gref(self, rw, 4000);
  CHECK_EQ(gnttab_copy_one(&s, &d, 97), GNTST_bad_copy_arg);
  s = local(pages[4], 4095);
  d = gref(self, rw, 0);
  CHECK_EQ(gnttab_copy_one(&s, &d, 2), GNTST_bad_copy_arg);
  CHECK_EQ(flags_of(rw), GTF_permit_access);

  /* A frame may only be named with DOMID_SELF. */
  s = local(pages[4], 0);
  s.domid = self;
  d = local(pages[3], 0);
  CHECK_EQ(gnttab_copy_one(&s, &d, 8), GNTST_permission_denied);
  s = local(pages[4], 0);
  d = gref(NO_DOMAIN, rw, 0);
  CHECK_EQ(gnttab_copy_one(&s, &d, 8), GNTST_bad_domain);
  d = gref(self, 60000, 0);
  CHECK_EQ(gnttab_copy_one(&s, &d, 8), GNTST_bad_gntref);
  d = gref(self, 200, 0);
  CHECK_EQ(gnttab_copy_one(&s, &d, 8), GNTST_general_error);
  s.ref_or_gfn = pvkvm_ram_bytes() >> 12;
  d = local(pages[3], 0);
  CHECK_EQ(gnttab_copy_one(&s, &d, 8), GNTST_bad_page);

  /* A batch: statuses per op, call returns 0. */
  struct gnttab_copy ops[2];
  memset(ops, 0, sizeof(ops));
  uint64_t g3 = gfn_of(pages[3]), g4 = gfn_of(pages[4]);
  memcpy(&ops[0].source_u_ref, &g3, 8);
  ops[0].source_domid = DOMID_SELF;
  memcpy(&ops[0].dest_u_ref, &g4, 8);
  ops[0].dest_domid = DOMID_SELF;
  ops[0].len = 16;
  ops[1] = ops[0];
  ops[1].len = 4097;
  CHECK_EQ(gnttab_copy(ops, 2), 0);
  CHECK_EQ(ops[0].status, GNTST_okay);
  CHECK_EQ(ops[1].status, GNTST_bad_copy_arg);
  CHECK_EQ(gnttab_end_access(rw), 0);
  CHECK_EQ(gnttab_end_access(ro), 0);
}

static void test_swap(void) {
  long a = gnttab_grant_access(self, 0x111, 0);
  long b = gnttab_grant_access(self + 5, 0x222, 1);
  REQUIRE(a > 0 && b > 0);
  struct gnttab_swap_grant_ref sw = {.ref_a = a, .ref_b = b, .status = 0x55};
  CHECK_EQ(gop(GNTTABOP_swap_grant_ref, &sw, 1), 0);
  CHECK_EQ(sw.status, GNTST_okay);
  CHECK_EQ(gnttab_entry(a)->frame, 0x222);
  CHECK_EQ(gnttab_entry(a)->domid, self + 5);
  CHECK_EQ(gnttab_entry(a)->flags, GTF_permit_access | GTF_readonly);
  CHECK_EQ(gnttab_entry(b)->frame, 0x111);
  sw.ref_a = a;
  sw.ref_b = a;
  CHECK_EQ(gop(GNTTABOP_swap_grant_ref, &sw, 1), 0);
  CHECK_EQ(sw.status, GNTST_okay);
  sw.ref_b = 60000;
  CHECK_EQ(gop(GNTTABOP_swap_grant_ref, &sw, 1), 0);
  CHECK_EQ(sw.status, GNTST_bad_gntref);
  /* A pinned entry cannot move. */
  gnttab_entry(b)->frame = (uint32_t)gfn_of(pages[5]);
  grant_handle_t h;
  REQUIRE(gnttab_map(self, b, MAP0, 0, &h) == GNTST_okay);
  sw.ref_a = a;
  sw.ref_b = b;
  CHECK_EQ(gop(GNTTABOP_swap_grant_ref, &sw, 1), 0);
  CHECK_EQ(sw.status, GNTST_eagain);
  CHECK_EQ(gnttab_unmap(h, MAP0), GNTST_okay);
  CHECK_EQ(gnttab_end_access(a), 0);
  CHECK_EQ(gnttab_end_access(b), 0);
}

static void test_calls(void) {
  static const unsigned nosys[] = {GNTTABOP_dump_table, GNTTABOP_transfer, GNTTABOP_unmap_and_replace,
                                   GNTTABOP_get_status_frames, GNTTABOP_cache_flush, 13, 0x1000 | GNTTABOP_query_size};
  struct gnttab_query_size q = {.dom = DOMID_SELF};
  for (unsigned i = 0; i < sizeof(nosys) / sizeof(nosys[0]); i++)
    if (!CHECK_EQ(gop(nosys[i], &q, 1), -XEN_ENOSYS)) printf("  (cmd %#x)\n", nosys[i]);
  CHECK_EQ(gop(GNTTABOP_map_grant_ref, &q, 0x80000000u), -XEN_EINVAL);
  CHECK_EQ(gop(GNTTABOP_map_grant_ref, (void *)(uintptr_t)UNBACKED, 1), -XEN_EFAULT);
  CHECK_EQ(gop(GNTTABOP_query_size, (void *)(uintptr_t)UNBACKED, 1), -XEN_EFAULT);
  CHECK_EQ(gop(GNTTABOP_map_grant_ref, NULL, 0), 0);
}

/* 128 read-only maps of one entry are fine; then the 8-bit pin count is full (Xen refuses a pin
 * once a counter has reached 128). */
static void test_pin_limit(void) {
  long ref = gnttab_grant_access(self, gfn_of(pages[5]), 1);
  static grant_handle_t hs[129];
  unsigned n = 0;
  for (; n < 128; n++)
    if (!CHECK_EQ(gnttab_map(self, ref, MAP0 + n * PAGE, 1, &hs[n]), GNTST_okay)) break;
  CHECK_EQ(gnttab_map(self, ref, MAP0 + 128 * PAGE, 1, &hs[128]), GNTST_general_error);
  while (n--) CHECK_EQ(gnttab_unmap(hs[n], MAP0 + n * PAGE), GNTST_okay);
  CHECK_EQ(gnttab_end_access(ref), 0);
}

/* Every mapping handle in use: the next map has no maptrack space. */
static void test_maptrack_full(void) {
  enum { N = 1024, PER_REF = 100 };
  static long refs[(N + PER_REF - 1) / PER_REF + 1];
  static grant_handle_t hs[N];
  for (unsigned i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) refs[i] = gnttab_grant_access(self, gfn_of(pages[5]), 1);
  unsigned n = 0;
  for (; n < N; n++)
    if (!CHECK_EQ(gnttab_map(self, refs[n / PER_REF], MAP0 + (uint64_t)n * PAGE, 1, &hs[n]), GNTST_okay)) break;
  CHECK_EQ(gnttab_map(self, refs[N / PER_REF], MAP0 + (uint64_t)N * PAGE, 1, NULL), GNTST_no_device_space);
  while (n--) CHECK_EQ(gnttab_unmap(hs[n], MAP0 + (uint64_t)n * PAGE), GNTST_okay);
  for (unsigned i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) CHECK_EQ(gnttab_end_access(refs[i]), 0);
}

int main(void) {
  REQUIRE_XEN();
  int id = pvkvm_domid();
  REQUIRE(id >= 0);
  self = (domid_t)id;
  uint64_t t0 = pvkvm_time_ns();
  test_sizes_and_versions();
  test_setup_and_growth();
  test_loopback_map();
  test_readonly();
  test_map_errors();
  test_copy();
  test_swap();
  test_calls();
  if (pvkvm_cmdline_ull("pins", 0)) test_pin_limit();
  if (pvkvm_cmdline_ull("maptrack", 0)) test_maptrack_full();
  printf("grant-ops: done in %llu ms\n", (unsigned long long)((pvkvm_time_ns() - t0) / 1000000));
  test_done();
}
