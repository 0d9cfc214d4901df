/*
 * grant-peer: grant tables between two domains (test-only wiring: domids on the command line).
 * Every role grants its pages first thing, so its references are 8, 9, 10, 11 in order.
 *
 *   role=pair peer=D      Both sides run this. Grants: 8 = page R (rw), 9 = page O (ro),
 *                         10 = page C (rw, a copy target), 11 = mailbox M (rw). Maps the peer's
 *                         R and O (retrying until granted), checks them byte for byte, writes its
 *                         own pattern into the peer's R, tries to write the peer's O (dropped) and
 *                         to map it writable (refused), copies the peer's O out and its own data
 *                         into the peer's C, then unmaps and posts DONE in the peer's M. Waits for
 *                         the peer's DONE and checks what the peer did to its own pages, and that
 *                         every reference can be revoked again.
 *   role=flipper peer=D [mode=ro|rw]
 *                         Grants 8 = page F, 9 = mailbox M (rw), then rewrites entry 8 in a tight
 *                         loop (whole 32-bit flags+domid stores) through states that never give
 *                         the peer write access (mode=ro: invalid, read-only to the peer, writable
 *                         to another domain, accept_transfer) or that also include writable to the
 *                         peer (mode=rw), until the peer posts its result in M. In mode=ro F must
 *                         be unchanged byte for byte.
 *   role=flipmap peer=D [mode=ro|rw] [n=N]
 *                         Maps the flipper's M, then N times tries to map entry 8 (alternately
 *                         writable and read-only), reads and writes through each mapping it gets
 *                         and unmaps, and tries grant copies into and out of it. Every result
 *                         must be a clean map or GNTST_general_error; in mode=ro no writable map or
 *                         copy into F may ever succeed.
 *   role=victim peer=D    Grants 8 = page V (rw) to peer, prints "victim: ready", spins.
 *   role=holder peer=D    Maps the victim's 8, prints "holder: mapped", then waits for the page to
 *                         vanish (reads all-ones once the victim is destroyed), unmaps (okay),
 *                         re-maps (bad_domain), and maps its own grant at the same address.
 *   role=survivor peer=D  Grants 8 (rw) to the peer, prints "survivor: mapped by peer" once
 *                         GTF_reading shows up, then waits for the flags to clear (the mapper was
 *                         destroyed) and revokes the grant.
 *   role=mapvictim peer=D Maps the survivor's 8 writable, writes it, prints "mapvictim: mapped",
 *                         spins.
 * Options: timeout_ms=T (default 20000).
 */
#include <pvkvm/pvkvm.h>

#define PAGE 4096u
#define MAP(i) (PVKVM_GNTTAB_MAP_BASE + (uint64_t)(i) * PAGE)
#define DONE_MAGIC 0xd0e5d0e5u
#define REF0 GNTTAB_NR_RESERVED_ENTRIES

static uint8_t pages[4][PAGE] __attribute__((aligned(PAGE)));
static uint8_t scratch[PAGE] __attribute__((aligned(PAGE)));
static domid_t self, peer;
static uint64_t deadline;

static uint64_t gfn_of(const void *p) { return (uintptr_t)p >> 12; }
static volatile uint32_t *u32at(uint64_t gpa) { return (volatile uint32_t *)(uintptr_t)gpa; }
static int timed_out(void) { return pvkvm_time_ns() >= deadline; }

/* The byte a domain's page `which` holds at offset i (so each side can check the other's). */
static uint8_t pattern(domid_t dom, unsigned which, unsigned i) { return (uint8_t)(dom * 31 + which * 7 + i * 13 + (i >> 8)); }
static void fill(uint8_t *p, domid_t dom, unsigned which) {
  for (unsigned i = 0; i < PAGE; i++) p[i] = pattern(dom, which, i);
}
static int check_pattern(const volatile uint8_t *p, domid_t dom, unsigned which, unsigned from) {
  for (unsigned i = from; i < PAGE; i++)
    if (p[i] != pattern(dom, which, i)) {
      printf("  byte %u of page %u of d%u is %#x, want %#x\n", i, which, dom, p[i], pattern(dom, which, i));
      return 0;
    }
  return 1;
}

/* Grant our page i to the peer; refs come out as REF0 + i when done first thing. */
static void grant_pages(unsigned n, const int *readonly) {
  REQUIRE(gnttab_init() == 0);
  for (unsigned i = 0; i < n; i++) {
    long ref = gnttab_grant_access(peer, gfn_of(pages[i]), readonly[i]);
    if (!CHECK_EQ(ref, REF0 + i)) test_exit(TEST_FAILURE);
  }
}

/* Map the peer's ref, retrying while it has not granted it yet (general_error) or does not exist. */
static int map_retry(grant_ref_t ref, uint64_t gpa, int readonly, grant_handle_t *h) {
  for (;;) {
    int st = gnttab_map(peer, ref, gpa, readonly, h);
    if (st == GNTST_okay) return 1;
    if (st != GNTST_general_error && st != GNTST_bad_domain) {
      printf("map of d%u ref %u: status %d\n", peer, ref, st);
      return 0;
    }
    if (timed_out()) {
      printf("map of d%u ref %u: still %d at the deadline\n", peer, ref, st);
      return 0;
    }
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
  }
}

static int wait_word(volatile uint32_t *w, uint32_t want) {
  while (__atomic_load_n(w, __ATOMIC_SEQ_CST) != want) {
    if (timed_out()) return 0;
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
  }
  return 1;
}

static long end_access_retry(grant_ref_t ref) {
  long rc;
  while ((rc = gnttab_end_access(ref)) == -XEN_EBUSY && !timed_out()) HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
  return rc;
}

static void role_pair(void) {
  static const int ro[4] = {0, 1, 0, 0};
  fill(pages[0], self, 0);
  fill(pages[1], self, 1);
  memset(pages[2], 0, PAGE);
  memset(pages[3], 0, PAGE);
  grant_pages(4, ro);
  printf("pair: granted refs %u..%u to d%u\n", REF0, REF0 + 3, peer);

  grant_handle_t hr, ho, hm;
  REQUIRE(map_retry(REF0, MAP(0), 0, &hr));
  REQUIRE(map_retry(REF0 + 1, MAP(1), 1, &ho));
  REQUIRE(map_retry(REF0 + 3, MAP(2), 0, &hm));
  /* Their data, byte for byte, through the mappings. */
  CHECK(check_pattern((volatile uint8_t *)MAP(0), peer, 0, 0));
  CHECK(check_pattern((volatile uint8_t *)MAP(1), peer, 1, 0));
  /* Our data into their writable page; the read-only one must not change. */
  for (unsigned i = 0; i < PAGE; i++) ((volatile uint8_t *)MAP(0))[i] = pattern(self, 8, i);
  u32at(MAP(1))[5] = 0xbadbad;
  CHECK(check_pattern((volatile uint8_t *)MAP(1), peer, 1, 0));
  grant_handle_t hx;
  CHECK_EQ(gnttab_map(peer, REF0 + 1, MAP(3), 0, &hx), GNTST_general_error);
  /* Copies: their read-only page out, our data into their copy target, never into the r/o one. */
  struct gnttab_copy_side s = {.is_ref = 1, .ref_or_gfn = REF0 + 1, .domid = peer, .offset = 0};
  struct gnttab_copy_side d = {.is_ref = 0, .ref_or_gfn = gfn_of(scratch), .domid = DOMID_SELF, .offset = 0};
  CHECK_EQ(gnttab_copy_one(&s, &d, PAGE), GNTST_okay);
  CHECK(check_pattern(scratch, peer, 1, 0));
  fill(scratch, self, 9);
  s = (struct gnttab_copy_side){.is_ref = 0, .ref_or_gfn = gfn_of(scratch), .domid = DOMID_SELF, .offset = 0};
  d = (struct gnttab_copy_side){.is_ref = 1, .ref_or_gfn = REF0 + 2, .domid = peer, .offset = 0};
  CHECK_EQ(gnttab_copy_one(&s, &d, PAGE), GNTST_okay);
  d.ref_or_gfn = REF0 + 1;
  CHECK_EQ(gnttab_copy_one(&s, &d, 16), GNTST_general_error);
  CHECK_EQ(gnttab_unmap(hr, MAP(0)), GNTST_okay);
  CHECK_EQ(gnttab_unmap(ho, MAP(1)), GNTST_okay);
  __atomic_store_n(u32at(MAP(2)), DONE_MAGIC, __ATOMIC_SEQ_CST);
  CHECK_EQ(gnttab_unmap(hm, MAP(2)), GNTST_okay);

  /* What the peer did to our pages. */
  REQUIRE(wait_word((volatile uint32_t *)pages[3], DONE_MAGIC));
  CHECK(check_pattern(pages[0], peer, 8, 0));
  CHECK(check_pattern(pages[1], self, 1, 0));
  CHECK(check_pattern(pages[2], peer, 9, 0));
  for (unsigned i = 0; i < 4; i++) CHECK_EQ(end_access_retry(REF0 + i), 0);
  printf("pair: exchanged pages with d%u\n", peer);
}

/* Entry states for the flipper: flags in the low half, grantee in the high half. */
static uint32_t state(domid_t dom, uint16_t flags) { return ((uint32_t)dom << 16) | flags; }

static void role_flipper(int rw_mode) {
  /* In mode=ro, F must never be writable by the peer, not even before the flipping starts. */
  const int ro[2] = {!rw_mode, 0};
  fill(pages[0], self, 0);
  memset(pages[1], 0, PAGE);
  grant_pages(2, ro);
  volatile uint32_t *word = (volatile uint32_t *)gnttab_entry(REF0);
  const uint32_t states_ro[] = {
    0, state(peer, GTF_permit_access | GTF_readonly), state(peer + 1, GTF_permit_access),
    state(peer, GTF_accept_transfer), state(peer, GTF_permit_access | GTF_readonly),
  };
  const uint32_t states_rw[] = {0, state(peer, GTF_permit_access | GTF_readonly), state(peer, GTF_permit_access)};
  const uint32_t *states = rw_mode ? states_rw : states_ro;
  unsigned nstates = rw_mode ? 3 : 5;
  volatile uint32_t *mbox = (volatile uint32_t *)pages[1];
  printf("flipper: flipping ref %u (%s) for d%u\n", REF0, rw_mode ? "rw" : "ro", peer);
  uint64_t flips = 0;
  while (__atomic_load_n(&mbox[0], __ATOMIC_SEQ_CST) != DONE_MAGIC) {
    for (unsigned k = 0; k < 64; k++) __atomic_store_n(word, states[(flips++) % nstates], __ATOMIC_SEQ_CST);
    if (timed_out()) {
      printf("flipper: no result from d%u after %llu flips\n", peer, (unsigned long long)flips);
      test_exit(TEST_FAILURE);
    }
  }
  __atomic_store_n(word, 0, __ATOMIC_SEQ_CST);
  printf("flipper: %llu flips; peer mapped ro %u, rw %u, copied in %u, refused %u\n", (unsigned long long)flips,
         mbox[1], mbox[2], mbox[3], mbox[4]);
  if (rw_mode) {
    /* The peer only ever writes its marker into word 0, and only through writable access. */
    CHECK(check_pattern(pages[0], self, 0, 4));
  } else {
    CHECK(check_pattern(pages[0], self, 0, 0));
    CHECK_EQ(mbox[2], 0);
    CHECK_EQ(mbox[3], 0);
  }
  CHECK(mbox[1] > 0); /* the race was real: some maps did get through */
  CHECK_EQ(end_access_retry(REF0 + 1), 0);
}

static void role_flipmap(int rw_mode, unsigned n) {
  grant_handle_t hm, h;
  REQUIRE(map_retry(REF0 + 1, MAP(0), 0, &hm));
  volatile uint32_t *mbox = u32at(MAP(0));
  uint32_t ro_ok = 0, rw_ok = 0, copy_in = 0, refused = 0;
  for (unsigned i = 0; i < n && !timed_out(); i++) {
    int readonly = i & 1;
    int st = gnttab_map(peer, REF0, MAP(1), readonly, &h);
    if (st == GNTST_okay) {
      volatile uint8_t *p = (volatile uint8_t *)MAP(1);
      /* A clean mapping of the flipper's page: its data is there. */
      if (!CHECK(check_pattern(p, peer, 0, 4))) break;
      if (readonly) ro_ok++;
      else rw_ok++;
      u32at(MAP(1))[0] = 0x5000000u + i; /* lands only through a writable mapping */
      if (!CHECK_EQ(gnttab_unmap(h, MAP(1)), GNTST_okay)) break;
    } else if (st == GNTST_general_error) {
      refused++;
    } else {
      printf("flipmap: map %u answered %d\n", i, st);
      CHECK(0);
      break;
    }
    /* Copies race the flipper too: into F needs write access, out of F read access. */
    uint32_t marker = 0x6000000u + i;
    memcpy(scratch, &marker, 4);
    struct gnttab_copy_side s = {.is_ref = 0, .ref_or_gfn = gfn_of(scratch), .domid = DOMID_SELF, .offset = 0};
    struct gnttab_copy_side d = {.is_ref = 1, .ref_or_gfn = REF0, .domid = peer, .offset = 0};
    st = gnttab_copy_one(&s, &d, 4);
    if (st == GNTST_okay) copy_in++;
    else if (!CHECK_EQ(st, GNTST_general_error)) break;
    struct gnttab_copy_side out = {.is_ref = 0, .ref_or_gfn = gfn_of(scratch), .domid = DOMID_SELF, .offset = 4};
    d.offset = 4;
    memset(scratch, 0, 68);
    st = gnttab_copy_one(&d, &out, 64);
    if (st == GNTST_okay) {
      for (unsigned k = 4; k < 68; k++)
        if (!CHECK_EQ(scratch[k], pattern(peer, 0, k))) break;
    } else if (!CHECK_EQ(st, GNTST_general_error)) {
      break;
    }
  }
  printf("flipmap: ro %u, rw %u, copied in %u, refused %u\n", ro_ok, rw_ok, copy_in, refused);
  if (!rw_mode) {
    CHECK_EQ(rw_ok, 0);
    CHECK_EQ(copy_in, 0);
  }
  mbox[1] = ro_ok;
  mbox[2] = rw_ok;
  mbox[3] = copy_in;
  mbox[4] = refused;
  __atomic_store_n(&mbox[0], DONE_MAGIC, __ATOMIC_SEQ_CST);
  CHECK_EQ(gnttab_unmap(hm, MAP(0)), GNTST_okay);
}

static void __attribute__((noreturn)) spin_forever(void) {
  for (;;) HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

static void role_victim(void) {
  static const int ro[1] = {0};
  fill(pages[0], self, 0);
  grant_pages(1, ro);
  printf("victim: ready\n");
  console_flush();
  spin_forever();
}

static void role_holder(void) {
  grant_handle_t h;
  REQUIRE(map_retry(REF0, MAP(0), 0, &h));
  CHECK(check_pattern((volatile uint8_t *)MAP(0), peer, 0, 0));
  printf("holder: mapped\n");
  console_flush();
  /* Once the granter is gone its page is unmapped from us: reads see unbacked memory. */
  volatile uint32_t *w = u32at(MAP(0));
  while (*w != 0xffffffffu) {
    if (timed_out()) {
      printf("holder: the page is still there at the deadline\n");
      test_exit(TEST_FAILURE);
    }
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
  }
  printf("holder: page gone\n");
  CHECK_EQ(gnttab_unmap(h, MAP(0)), GNTST_okay);
  CHECK_EQ(gnttab_unmap(h, MAP(0)), GNTST_bad_handle);
  CHECK_EQ(gnttab_map(peer, REF0, MAP(0), 0, &h), GNTST_bad_domain);
  /* The address is free again. */
  long ref = gnttab_grant_access(self, gfn_of(pages[0]), 0);
  fill(pages[0], self, 3);
  REQUIRE(gnttab_map(self, ref, MAP(0), 0, &h) == GNTST_okay);
  CHECK(check_pattern((volatile uint8_t *)MAP(0), self, 3, 0));
  CHECK_EQ(gnttab_unmap(h, MAP(0)), GNTST_okay);
  CHECK_EQ(gnttab_end_access(ref), 0);
}

static void role_survivor(void) {
  static const int ro[1] = {0};
  fill(pages[0], self, 0);
  grant_pages(1, ro);
  volatile uint16_t *flags = &gnttab_entry(REF0)->flags;
  while (!(*flags & GTF_reading)) {
    if (timed_out()) test_exit(TEST_FAILURE);
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
  }
  CHECK_EQ(gnttab_end_access(REF0), -XEN_EBUSY);
  printf("survivor: mapped by peer\n");
  console_flush();
  while (*flags & (GTF_reading | GTF_writing)) {
    if (timed_out()) {
      printf("survivor: flags still %#x at the deadline\n", *flags);
      test_exit(TEST_FAILURE);
    }
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
  }
  printf("survivor: released\n");
  CHECK_EQ(((uint32_t *)pages[0])[0], 0x77777777u); /* what the mapper wrote */
  CHECK_EQ(gnttab_end_access(REF0), 0);
}

static void role_mapvictim(void) {
  grant_handle_t h;
  REQUIRE(map_retry(REF0, MAP(0), 0, &h));
  u32at(MAP(0))[0] = 0x77777777u;
  printf("mapvictim: mapped\n");
  console_flush();
  spin_forever();
}

int main(void) {
  REQUIRE_XEN();
  int id = pvkvm_domid();
  REQUIRE(id >= 0);
  self = (domid_t)id;
  char role[16] = "", mode[8] = "ro";
  pvkvm_cmdline_get("role", role, sizeof(role));
  pvkvm_cmdline_get("mode", mode, sizeof(mode));
  peer = (domid_t)pvkvm_cmdline_ull("peer", DOMID_INVALID);
  deadline = pvkvm_time_ns() + pvkvm_cmdline_ull("timeout_ms", 20000) * NSEC_PER_MSEC;
  if (peer >= DOMID_FIRST_RESERVED) {
    printf("usage: role=pair|flipper|flipmap|victim|holder|survivor|mapvictim peer=DOMID\n");
    test_exit(TEST_ERROR);
  }
  int rw_mode = strcmp(mode, "rw") == 0;
  printf("grant-peer: d%u role=%s peer=%u\n", self, role, peer);
  if (strcmp(role, "pair") == 0) role_pair();
  else if (strcmp(role, "flipper") == 0) role_flipper(rw_mode);
  else if (strcmp(role, "flipmap") == 0) role_flipmap(rw_mode, (unsigned)pvkvm_cmdline_ull("n", 2000));
  else if (strcmp(role, "victim") == 0) role_victim();
  else if (strcmp(role, "holder") == 0) role_holder();
  else if (strcmp(role, "survivor") == 0) role_survivor();
  else if (strcmp(role, "mapvictim") == 0) role_mapvictim();
  else test_exit(TEST_ERROR);
  test_done();
}
