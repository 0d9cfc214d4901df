/*
 * saverestore: a guest that keeps counting across `pvkvm save` / `pvkvm restore`.
 *
 * Offers control/feature-suspend and watches control/shutdown. It counts in memory and fills a
 * 1 MiB buffer with a pattern; on "suspend" it writes data/suspend-N = "<count>", suspends, and
 * once resumed writes data/resume-N = "<rc> <count> <pattern ok|bad>" (rc 1: cancelled, save -c;
 * 0: restored in a new domain), re-registers its watch (watches do not survive a restore) and
 * counts on. On "poweroff" it writes data/final = "<count>" and powers off.
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/xenbus.h>

#define BUF_BYTES (1u << 20)
static uint8_t buf[BUF_BYTES];
static volatile uint64_t counter;

static uint8_t pattern(size_t i) { return (uint8_t)(i * 131u + (i >> 12) + 7u); }

/* ---- disk=1 ---- */
#define IO_BLOCKS 256u
static struct block_dev *disk;
static uint8_t wbuf[4096] __attribute__((aligned(4096)));
static uint8_t rbuf[4096] __attribute__((aligned(4096)));
static uint8_t sbuf[4096] __attribute__((aligned(4096))); /* the write left in flight over a save */
static uint32_t stamp_of[IO_BLOCKS];                     /* round last written to each block (0: none) */
static uint64_t io_rounds, io_bad;

static void stamp(uint8_t *b, uint32_t block, uint32_t round) {
  for (uint32_t i = 0; i < 4096; i++) b[i] = (uint8_t)(block * 7u + round * 13u + i);
}

static int stamp_ok(const uint8_t *b, uint32_t block, uint32_t round) {
  for (uint32_t i = 0; i < 4096; i++)
    if (b[i] != (uint8_t)(block * 7u + round * 13u + i)) return 0;
  return 1;
}

static uint32_t sectors_per_block(void) { return 4096 / disk->sector_size; }

/* Read block b back and check it against what was last written there. */
static void check_block(uint32_t b) {
  if (!stamp_of[b]) return;
  int rc = block_read(disk, (uint64_t)b * sectors_per_block(), sectors_per_block(), rbuf);
  if (rc < 0 || !stamp_ok(rbuf, b, stamp_of[b])) {
    printf("saverestore: block %u: read %d, %s\n", b, rc, rc < 0 ? "failed" : "wrong data");
    io_bad++;
  }
}

static void io_round(void) {
  uint32_t round = (uint32_t)++io_rounds;
  uint32_t b = round % IO_BLOCKS;
  stamp(wbuf, b, round);
  int rc = block_write(disk, (uint64_t)b * sectors_per_block(), sectors_per_block(), wbuf);
  if (rc < 0) {
    printf("saverestore: write block %u: %d\n", b, rc);
    io_bad++;
    return;
  }
  stamp_of[b] = round;
  check_block(b);
  check_block((b * 37u + 11u) % IO_BLOCKS);
}

static int pattern_ok(void) {
  for (size_t i = 0; i < BUF_BYTES; i++)
    if (buf[i] != pattern(i)) return 0;
  return 1;
}

static void put(const char *key, const char *fmt, unsigned long long a, long b, const char *c) {
  char path[64], value[96];
  snprintf(path, sizeof(path), "data/%s", key);
  snprintf(value, sizeof(value), fmt, a, b, c);
  int rc = xs_write(XBT_NIL, path, value);
  if (rc < 0) printf("xs_write %s failed: %d\n", path, rc);
}

int main(void) {
  REQUIRE_XEN();
  if (xs_init() < 0 || xenbus_watch_control_shutdown() < 0 || xenbus_offer_suspend() < 0) {
    printf("no xenstore\n");
    test_exit(TEST_FAILURE);
  }
  for (size_t i = 0; i < BUF_BYTES; i++) buf[i] = pattern(i);
  if (pvkvm_cmdline_ull("disk", 0)) {
    int rc = block_open_default(&disk);
    if (rc < 0) {
      printf("saverestore: no disk: %d\n", rc);
      test_exit(TEST_FAILURE);
    }
    if (disk->nr_sectors < (uint64_t)IO_BLOCKS * sectors_per_block()) {
      printf("saverestore: the disk is smaller than 1 MiB\n");
      test_exit(TEST_FAILURE);
    }
  }
  put("ready", "%llu", 1, 0, "");
  printf("saverestore: ready\n");
  int suspends = 0;
  for (;;) {
    char cmd[32];
    /* Count while waiting: each short wait that times out adds to the counter. */
    int reason = xenbus_wait_control_shutdown(20 * NSEC_PER_MSEC, cmd, sizeof(cmd));
    counter++;
    if (disk) io_round();
    if (reason == -XEN_ETIMEDOUT) continue;
    if (reason < 0) {
      printf("control/shutdown: %d\n", reason);
      test_exit(TEST_FAILURE);
    }
    if (reason == SHUTDOWN_suspend) {
      char key[16];
      suspends++;
      snprintf(key, sizeof(key), "suspend-%d", suspends);
      uint64_t before = counter;
      put(key, "%llu", before, 0, "");
      printf("saverestore: suspending at count %llu\n", (unsigned long long)before);
      /* One write in flight across the save: block IO_BLOCKS - 1, stamped with a new round. */
      struct block_req inflight = {.op = BLOCK_OP_WRITE, .count = 0};
      uint32_t sround = 0;
      if (disk) {
        snprintf(key, sizeof(key), "io-%d", 2 * suspends - 1);
        put(key, "%llu %ld%s", io_rounds, (long)io_bad, "");
        sround = (uint32_t)++io_rounds;
        stamp(sbuf, IO_BLOCKS - 1, sround);
        inflight.lba = (uint64_t)(IO_BLOCKS - 1) * sectors_per_block();
        inflight.count = sectors_per_block();
        inflight.buf = sbuf;
        if (block_submit(disk, &inflight) == 0) block_kick(disk);
        else inflight.count = 0;
      }
      long rc = pvkvm_suspend();
      uint64_t after = counter;
      printf("saverestore: resumed (rc %ld) at count %llu\n", rc, (unsigned long long)after);
      if (inflight.count) {
        int wrc = block_wait(disk, &inflight, 120 * NSEC_PER_SEC);
        if (wrc < 0) {
          printf("saverestore: the write in flight over the save: %d\n", wrc);
          io_bad++;
        } else {
          stamp_of[IO_BLOCKS - 1] = sround;
          check_block(IO_BLOCKS - 1);
        }
        snprintf(key, sizeof(key), "io-%d", 2 * suspends);
        put(key, "%llu %ld%s", io_rounds, (long)io_bad, "");
      }
      /* Watches live in the (new) xenstored connection: register ours again. */
      int wrc = xenbus_watch_control_shutdown();
      if (wrc < 0) printf("re-watch failed: %d\n", wrc);
      snprintf(key, sizeof(key), "resume-%d", suspends);
      put(key, "%llu %ld %s", after, rc, pattern_ok() ? "ok" : "bad");
      continue;
    }
    put("final", "%llu", counter, 0, "");
    if (disk) {
      put("io-final", "%llu %ld%s", io_rounds, (long)io_bad, "");
      printf("saverestore: io rounds=%llu bad=%llu\n", (unsigned long long)io_rounds, (unsigned long long)io_bad);
    }
    printf("saverestore: final count %llu\n", (unsigned long long)counter);
    test_result(TEST_SUCCESS);
    pvkvm_shutdown((unsigned)reason);
  }
}
