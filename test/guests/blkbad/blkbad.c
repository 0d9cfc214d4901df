/*
 * blkbad: a hostile PV block frontend, for the backend's safety tests. It connects normally
 * (blkfront), checks a plain read works, then misbehaves on the ring according to mode=:
 *
 *   badref    READs whose segment names a grant never made (an unused entry of our table, and
 *             one far beyond it): each must get BLKIF_RSP_ERROR; then the disk still reads.
 *   range     READs at sector `sectors`, across the end (sectors-1, two sectors) and at 2^62:
 *             each ERROR; then reading the last sector works.
 *   badseg    READs with first_sect > last_sect (5 > 2) and last_sect = 8 (past the page): each
 *             ERROR; then the disk still reads.
 *   readonly  the disk must be read-only (info): a WRITE of a granted page must get ERROR and leave
 *             sector 0 unchanged; reads still work.
 *   garbage   publishes req_prod = req_prod_pvt + 1000 and notifies: the backend must move the
 *             device to Closing or Closed within timeout_ms; prints "blkbad: backend closed the
 *             device" and closes its side. With disk2=1 the second vbd (opened before the
 *             garbage) must still write and read back a sector: "blkbad: second disk still works".
 *
 * Options: disk=I (the vbd to misbehave on, by ascending id; default 0), disk2=1 (garbage only:
 * the vbd after it must stay usable), timeout_ms=T (default 10000).
 * Each bad request prints "blkbad: <what>: status S" (S the response's status, -1 = ERROR).
 * Then exactly one "Test result: SUCCESS|FAILURE" (SUCCESS when the backend behaved) and poweroff.
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/blkfront.h>
#include <pvkvm/block.h>
#include <pvkvm/xenbus.h>
#include <pvkvm/xenstore.h>

#define PAGE 4096u

static uint8_t page[PAGE] __attribute__((aligned(PAGE)));
static uint8_t before[PAGE] __attribute__((aligned(PAGE)));
static uint8_t after[PAGE] __attribute__((aligned(PAGE)));

static struct blkfront_dev *bf;
static struct block_dev *dev;
static const struct blkfront_info *info;
static uint64_t timeout_ns;

/* A READ/WRITE of one segment (gref, first..last) at `sector`. */
static union blkif_sring_entry one_seg(uint8_t op, uint64_t sector, uint32_t gref, uint8_t first, uint8_t last) {
  union blkif_sring_entry e;
  memset(&e, 0, sizeof(e));
  e.req.operation = op;
  e.req.nr_segments = 1;
  e.req.handle = (uint16_t)info->devid;
  e.req.sector_number = sector;
  e.req.seg[0].gref = gref;
  e.req.seg[0].first_sect = first;
  e.req.seg[0].last_sect = last;
  return e;
}

/* Send one raw request and expect BLKIF_RSP_ERROR. */
static void expect_error(const char *what, const union blkif_sring_entry *e) {
  struct blkif_response rsp;
  memset(&rsp, 0, sizeof(rsp));
  int rc = blkfront_raw_request(bf, e, &rsp, timeout_ns);
  if (rc < 0) {
    printf("blkbad: %s: no response: %d\n", what, rc);
    CHECK_EQ(rc, 0);
    return;
  }
  printf("blkbad: %s: status %d\n", what, rsp.status);
  CHECK_EQ(rsp.status, BLKIF_RSP_ERROR);
}

/* Our page, granted to the backend for one raw request; must be revocable afterwards. */
static grant_ref_t grant_page(int readonly) {
  long ref = gnttab_grant_access(info->backend_id, (uintptr_t)page >> 12, readonly);
  REQUIRE(ref >= 0);
  return (grant_ref_t)ref;
}

static void end_grant(grant_ref_t ref) {
  long rc = gnttab_end_access(ref);
  if (rc != 0) printf("blkbad: grant %u still in use after the response: %ld\n", ref, rc);
  CHECK_EQ(rc, 0);
}

/* The device must still serve a plain read. */
static void still_reads(uint64_t lba) {
  int rc = block_read(dev, lba, 1, after);
  printf("blkbad: read of sector %llu afterwards: %d\n", (unsigned long long)lba, rc);
  CHECK_EQ(rc, 0);
}

static void mode_badref(void) {
  /* An entry of our table that was never granted: the last of the mapped frames. */
  grant_ref_t unused = gnttab_nr_frames() * 512 - 1;
  volatile struct grant_entry_v1 *ge = gnttab_entry(unused);
  REQUIRE(ge && ge->flags == 0);
  union blkif_sring_entry e = one_seg(BLKIF_OP_READ, 0, unused, 0, 7);
  expect_error("read with an ungranted gref", &e);
  e = one_seg(BLKIF_OP_READ, 0, 0x7ffffff0u, 0, 7);
  expect_error("read with a gref beyond the table", &e);
  e = one_seg(BLKIF_OP_WRITE, 0, unused, 0, 0);
  if (!info->readonly) expect_error("write with an ungranted gref", &e);
  still_reads(0);
}

static void mode_range(void) {
  grant_ref_t ref = grant_page(0);
  union blkif_sring_entry e = one_seg(BLKIF_OP_READ, info->sectors, ref, 0, 0);
  expect_error("read at sector `sectors`", &e);
  e = one_seg(BLKIF_OP_READ, info->sectors - 1, ref, 0, 1);
  expect_error("read across the end", &e);
  e = one_seg(BLKIF_OP_READ, 1ull << 62, ref, 0, 7);
  expect_error("read at sector 2^62", &e);
  e = one_seg(BLKIF_OP_READ, UINT64_MAX, ref, 0, 0);
  expect_error("read at sector 2^64-1", &e);
  end_grant(ref);
  still_reads(dev->nr_sectors - 1);
}

static void mode_badseg(void) {
  grant_ref_t ref = grant_page(0);
  union blkif_sring_entry e = one_seg(BLKIF_OP_READ, 0, ref, 5, 2);
  expect_error("read with first_sect 5 > last_sect 2", &e);
  e = one_seg(BLKIF_OP_READ, 0, ref, 0, 8);
  expect_error("read with last_sect 8", &e);
  e = one_seg(BLKIF_OP_READ, 0, ref, 0, 7);
  e.req.nr_segments = 12; /* more than BLKIF_MAX_SEGMENTS_PER_REQUEST */
  expect_error("read with 12 direct segments", &e);
  end_grant(ref);
  still_reads(0);
}

static void mode_readonly(void) {
  CHECK(info->readonly);
  REQUIRE(block_read(dev, 0, 1, before) == 0);
  for (unsigned i = 0; i < PAGE; i++) page[i] = (uint8_t)~before[i % 512];
  grant_ref_t ref = grant_page(1);
  union blkif_sring_entry e = one_seg(BLKIF_OP_WRITE, 0, ref, 0, 0);
  expect_error("write to a read-only disk", &e);
  end_grant(ref);
  REQUIRE(block_read(dev, 0, 1, after) == 0);
  CHECK(memcmp(before, after, 512) == 0);
  still_reads(0);
}

static void mode_garbage(int disk, int disk2) {
  struct blkfront_dev *bf2 = NULL;
  if (disk2) {
    int rc = blkfront_open((unsigned)disk + 1, &bf2);
    printf("blkbad: second disk: open %d\n", rc);
    REQUIRE(rc == 0);
    blkfront_print_info(bf2);
  }
  volatile struct blkif_sring *s = blkfront_sring(bf);
  uint32_t bad = blkfront_req_prod(bf) + 1000;
  blkfront_set_broken(bf); /* our bookkeeping no longer matches the ring */
  __atomic_store_n(&s->req_prod, bad, __ATOMIC_RELEASE);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  blkfront_notify(bf);
  printf("blkbad: wrote req_prod %u and notified\n", bad);
  int st = xenbus_wait_state(info->backend, XENBUS_STATE_BIT(XenbusStateClosing) | XENBUS_STATE_BIT(XenbusStateClosed),
                             timeout_ns);
  if (st >= 0) {
    printf("blkbad: backend closed the device (state %s)\n", xenbus_state_name(st));
    int rc = blkfront_close(bf);
    printf("blkbad: frontend closed: %d\n", rc);
  } else {
    printf("blkbad: backend state still %d after the garbage: %d\n", xenbus_read_state(info->backend), st);
    CHECK(st >= 0);
  }
  if (bf2) {
    struct block_dev *d2 = blkfront_block(bf2);
    uint64_t lba = d2->nr_sectors - 1;
    for (unsigned i = 0; i < d2->sector_size; i++) page[i] = (uint8_t)(i * 13 + 5);
    int w = d2->readonly ? 0 : block_write(d2, lba, 1, page);
    int r = block_read(d2, lba, 1, after);
    CHECK_EQ(w, 0);
    CHECK_EQ(r, 0);
    if (!d2->readonly) CHECK(memcmp(page, after, d2->sector_size) == 0);
    if (w == 0 && r == 0) printf("blkbad: second disk still works\n");
  }
}

int main(void) {
  REQUIRE_XEN();
  char mode[16] = "";
  pvkvm_cmdline_get("mode", mode, sizeof(mode));
  unsigned disk = (unsigned)pvkvm_cmdline_ull("disk", 0);
  int disk2 = pvkvm_cmdline_ull("disk2", 0) != 0;
  timeout_ns = pvkvm_cmdline_ull("timeout_ms", 10000) * NSEC_PER_MSEC;
  int rc = xs_init();
  if (rc < 0) {
    printf("blkbad: no xenstore: %d\n", rc);
    test_exit(TEST_FAILURE);
  }
  rc = blkfront_open(disk, &bf);
  if (rc < 0) {
    printf("blkbad: cannot open disk %u: %d\n", disk, rc);
    test_exit(TEST_FAILURE);
  }
  blkfront_print_info(bf);
  dev = blkfront_block(bf);
  info = blkfront_get_info(bf);
  dev->timeout_ns = timeout_ns;
  REQUIRE(block_read(dev, 0, 1, before) == 0); /* a plain read works before anything else */

  if (strcmp(mode, "badref") == 0) mode_badref();
  else if (strcmp(mode, "range") == 0) mode_range();
  else if (strcmp(mode, "badseg") == 0) mode_badseg();
  else if (strcmp(mode, "readonly") == 0) mode_readonly();
  else if (strcmp(mode, "garbage") == 0) mode_garbage((int)disk, disk2);
  else {
    printf("blkbad: mode must be badref, range, badseg, readonly or garbage\n");
    test_exit(TEST_ERROR);
  }
  test_done();
}
