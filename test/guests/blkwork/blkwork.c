/*
 * blkwork: block workloads on a disk through <pvkvm/block.h>: the PV disk (blkfront), or the
 * emulated ATA disk when there is no PV disk (e.g. under QEMU with -drive if=ide; block=ata|pv
 * forces one, ata.mode=irq|polled and ata.multiple=N tune the ATA driver).
 *
 * Modes (mode=...):
 *   seqwrite     write the guest pattern over [0, size) in bs-sized requests, then flush
 *   seqread      read [0, size) and verify the guest pattern
 *   verify-host  read [0, size) and verify the host pattern
 *   random       random reads/writes/flushes on [0, size) with up to qd in flight (never two on
 *                the same block at once); every written sector carries a stamp (below) and a
 *                shadow table of generations checks every read of a written block; a final pass
 *                re-reads the whole region
 *   bench        sequential read of [0, size), qd requests of bs in flight
 *   benchwrite   the same, writing
 *   randread     ops= random bs-aligned reads in [0, size), qd in flight
 *   kick         ops= event-channel sends to the PV disk's backend with no request (each wakes
 *                blkback's data path, which finds nothing to do): the cost of one kick
 *   nullcall     ops= xen_version hypercalls (a user-space exit each), the kick's yardstick
 * Options: size=BYTES (K/M/G suffixes; default 1M, 4M for random), bs=BYTES (default 4096; a
 *   multiple of the sector size; larger than one request is split), qd=N (default 1, at most 64),
 *   disk=I (the I-th vbd by ascending id, default 0; ATA: 0 only), seed=N (default 1), ops=N
 *   (random: default 1000; randread: default size/bs), register=1 (declare the 4 MiB buffer arena I/O
 *   memory, block_register_buffer: PV requests then use it without bouncing; bench modes first read
 *   qd * bs bytes through it, untimed, so its pages are granted before the measured loop),
 *   expect-readonly=1 (the disk must say read-only, a write must
 *   fail and reads still work; then the mode, if any, runs), close=1 (close the device at the end
 *   and check the backend let go of every grant), timeout_ms=T (per wait, default 30000), ack=1
 *   (print "blkwork: ack OFFSET" for every write answered OKAY), progress=N (random: print
 *   "blkwork: progress K" after every N completed operations).
 *
 * Patterns (o = absolute byte offset on the disk):
 *   guest pattern:  sec = (o >> 9) mod 2^32, h = (sec * 0x9E3779B1) mod 2^32,
 *                   byte(o) = ((o & 511) * 7 + (h >> 24) + seed) & 0xff
 *   host pattern:   byte(o) = (o * 7 + (o >> 9)) & 0xff
 *   random stamps:  each 512-byte sector s of a write holds u64 BLKWORK_MAGIC, u64 s, u32 generation,
 *                   u32 seed (little-endian), then byte i (24..511) = (s * 31 + gen * 17 + i) & 0xff
 *
 * Output: "blkwork: disk ..." (the negotiated device), one line per mode such as
 *   "blkwork: seqwrite bytes=1048576 bs=4096 qd=1 ok",
 *   "blkwork bench op=read bs=4096 qd=8 ops=256 bytes=1048576 elapsed_us=... read_mb_s=123.456
 *    iops=31234 avg_lat_us=25.1 max_lat_us=80" (benchwrite: op=write and write_mb_s=; randread:
 *    op=randread and read_mb_s=; MB = 10^6 bytes; kick and nullcall: "blkwork bench op=kick
 *    ops=N elapsed_us=T ns_per_op=X cycles_per_op=C"),
 *   "blkwork stats requests=... indirect=... bounced=... notifies=... polls=... lazy_wakeups=...
 *    grant_end_failures=... bounce_bytes=... bounce_cycles=... registered=... registered_grants=...
 *    reconnects=... reissued=..." (PV) or "blkwork ata-stats commands=... cmd28=... cmd48=...
 *    multiple=... irqs=... flushes=... errors=... timeouts=..." (ATA), then exactly one
 *   "Test result: SUCCESS|FAILURE|ERROR" (ERROR: bad options) and poweroff.
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/ata.h>
#include <pvkvm/blkfront.h>
#include <pvkvm/isa.h>
#include <pvkvm/block.h>

#define ARENA_BYTES (4u << 20)
#define MAX_QD 64u
#define MAX_SUBS 1024u /* sub-requests over all slots */
#define MAX_BLOCKS 65536u
#define MAX_RANDOM_BLOCKS 8u /* per random request */
#define BLKWORK_MAGIC 0x314b524f574b4c42ull /* "BLKWORK1" */

static uint8_t arena[ARENA_BYTES] __attribute__((aligned(4096)));
static uint32_t gen_of[MAX_BLOCKS]; /* random: generation last written to each block (0: never) */
static uint8_t busy_of[MAX_BLOCKS]; /* random: block has a request in flight */

static struct block_dev *dev;
static struct blkfront_dev *bf; /* the PV disk's driver, or NULL */
static struct ata_dev *ata;     /* the ATA disk's driver, or NULL */
static uint64_t opt_size, opt_seed, opt_ops, opt_timeout_ns, opt_ack, opt_progress;
static uint32_t opt_bs;
static unsigned opt_qd;
static unsigned mismatches;

/* ---- options ---- */

static int opt_bytes(const char *key, uint64_t dflt, uint64_t *out) {
  char buf[32];
  if (pvkvm_cmdline_get(key, buf, sizeof(buf)) < 0) {
    *out = dflt;
    return 0;
  }
  const char *end;
  uint64_t v = strtoull(buf, &end, 0);
  if (end == buf) return -1;
  switch (*end) {
  case 'k': case 'K': v <<= 10; end++; break;
  case 'm': case 'M': v <<= 20; end++; break;
  case 'g': case 'G': v <<= 30; end++; break;
  default: break;
  }
  if (*end) return -1;
  *out = v;
  return 0;
}

static void bad_option(const char *what) {
  printf("blkwork: bad options: %s\n", what);
  test_exit(TEST_ERROR);
}

/* ---- patterns ---- */

static uint8_t host_byte(uint64_t o) { return (uint8_t)(o * 7 + (o >> 9)); }

/* Fill / check len bytes at disk offset off with the guest pattern (sector-aligned). */
static void guest_fill(uint8_t *p, uint64_t off, uint32_t len) {
  for (uint32_t i = 0; i < len; i += 512) {
    uint64_t o = off + i;
    uint32_t h = (uint32_t)(o >> 9) * 0x9E3779B1u;
    uint8_t base = (uint8_t)((h >> 24) + opt_seed);
    for (uint32_t j = 0; j < 512 && i + j < len; j++) p[i + j] = (uint8_t)(base + j * 7);
  }
}

static void report_mismatch(uint64_t o, uint8_t got, uint8_t want) {
  if (mismatches++ < 8) printf("blkwork: mismatch at offset %llu: got %#x, want %#x\n", (unsigned long long)o, got, want);
}

static int guest_check(const uint8_t *p, uint64_t off, uint32_t len) {
  for (uint32_t i = 0; i < len; i += 512) {
    uint32_t h = (uint32_t)((off + i) >> 9) * 0x9E3779B1u;
    uint8_t base = (uint8_t)((h >> 24) + opt_seed);
    for (uint32_t j = 0; j < 512 && i + j < len; j++)
      if (p[i + j] != (uint8_t)(base + j * 7)) {
        report_mismatch(off + i + j, p[i + j], (uint8_t)(base + j * 7));
        return -1;
      }
  }
  return 0;
}

static int host_check(const uint8_t *p, uint64_t off, uint32_t len) {
  for (uint32_t i = 0; i < len; i++)
    if (p[i] != host_byte(off + i)) {
      report_mismatch(off + i, p[i], host_byte(off + i));
      return -1;
    }
  return 0;
}

/* Elapsed time: pvclock with Xen; without it (QEMU) pvkvm_time_ns() is 0, so the TSC. */
static uint64_t now_ns(void) { return pvkvm_xen_present() ? pvkvm_time_ns() : isa_time_ns(); }

/* ---- PRNG (xorshift64*) ---- */

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull; }
static uint64_t rng(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}
static uint64_t rng_below(uint64_t n) { return n ? rng() % n : 0; }

/* ---- the pipelined engine: nops operations of bs bytes, qd in flight ---- */

struct job {
  const char *name;
  int write;
  uint64_t nops;
  uint64_t (*offset)(uint64_t i);                            /* byte offset of op i */
  void (*prepare)(uint8_t *buf, uint64_t off, uint32_t len); /* writes: fill (NULL: as is) */
  int (*check)(const uint8_t *buf, uint64_t off, uint32_t len); /* reads: 0 if good (NULL: none) */
  /* results */
  uint64_t done_ops, bytes, lat_sum_ns, lat_max_ns, elapsed_ns;
  int err;
};

struct slot {
  int active;
  uint64_t off;
  uint8_t *buf;
  unsigned nsub, submitted, first_sub;
};

/* Per-request latencies of the current job (µs), for its percentiles; later requests past the
 * array are still counted in the average and maximum. */
#define MAX_LAT_SAMPLES 16384u
static uint32_t lat_us[MAX_LAT_SAMPLES];

/* The k-th smallest of a[0..n) (quickselect; reorders a). */
static uint32_t kth_smallest(uint32_t *a, unsigned n, unsigned k) {
  unsigned lo = 0, hi = n - 1;
  while (lo < hi) {
    uint32_t pivot = a[(lo + hi) / 2];
    unsigned i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        uint32_t t = a[i]; a[i] = a[j]; a[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

static struct block_req subs[MAX_SUBS];
static struct slot slots[MAX_QD];

static uint64_t seq_offset(uint64_t i) { return i * opt_bs; }
static uint64_t rand_offset(uint64_t i) { return rng_below(opt_size / opt_bs) * opt_bs; }

/* Submit what is left of slot s; 0, or -XEN_EBUSY (try later), or an error. */
static int submit_slot(struct job *j, struct slot *s) {
  uint32_t per = dev->max_count * dev->sector_size;
  while (s->submitted < s->nsub) {
    unsigned k = s->submitted;
    struct block_req *r = &subs[s->first_sub + k];
    uint32_t at = k * per, len = opt_bs - at < per ? opt_bs - at : per;
    memset(r, 0, sizeof(*r));
    r->op = j->write ? BLOCK_OP_WRITE : BLOCK_OP_READ;
    r->lba = (s->off + at) / dev->sector_size;
    r->count = len / dev->sector_size;
    r->buf = s->buf + at;
    int rc = block_submit(dev, r);
    if (rc < 0) return rc;
    s->submitted++;
  }
  return 0;
}

static int run_job(struct job *j, unsigned qd) {
  uint32_t per = dev->max_count * dev->sector_size;
  unsigned nsub = (opt_bs + per - 1) / per;
  if (qd * nsub > MAX_SUBS) qd = MAX_SUBS / nsub;
  for (unsigned i = 0; i < qd; i++) {
    slots[i].active = 0;
    slots[i].buf = arena + (size_t)i * opt_bs;
    slots[i].first_sub = i * nsub;
    slots[i].nsub = nsub;
  }
  uint64_t issued = 0;
  j->done_ops = j->bytes = j->lat_sum_ns = j->lat_max_ns = 0;
  j->err = 0;
  uint64_t t0 = now_ns();
  unsigned active = 0;
  while ((issued < j->nops && !j->err) || active) {
    /* Fill the queue: first what is half submitted, then new operations. */
    for (unsigned i = 0; i < qd; i++) {
      struct slot *s = &slots[i];
      if (!s->active && (issued >= j->nops || j->err)) continue;
      if (!s->active) {
        s->active = 1;
        s->submitted = 0;
        s->off = j->offset(issued++);
        if (j->write && j->prepare) j->prepare(s->buf, s->off, opt_bs);
        active++;
      }
      int rc = submit_slot(j, s);
      if (rc == -XEN_EBUSY) break;
      if (rc < 0) {
        printf("blkwork: %s: submit at offset %llu: %d\n", j->name, (unsigned long long)s->off, rc);
        j->err = rc;
        if (s->submitted == 0) { /* nothing of it in flight */
          s->active = 0;
          active--;
        } else {
          s->nsub = s->submitted; /* wait for the part in flight */
        }
        break;
      }
    }
    if (!active) break;
    int rc = block_poll(dev, opt_timeout_ns);
    if (rc < 0) {
      printf("blkwork: %s: poll: %d (%llu ops done)\n", j->name, rc, (unsigned long long)j->done_ops);
      j->err = rc;
      return rc; /* the device is given up; slots stay where they are */
    }
    for (unsigned i = 0; i < qd; i++) {
      struct slot *s = &slots[i];
      if (!s->active || s->submitted < s->nsub) continue;
      uint64_t last = 0;
      int st = 0;
      unsigned k;
      for (k = 0; k < s->nsub; k++) {
        struct block_req *r = &subs[s->first_sub + k];
        if (r->status == BLOCK_PENDING) break;
        if (r->status < 0 && st == 0) st = r->status;
        if (r->done_ns > last) last = r->done_ns;
      }
      if (k < s->nsub) continue;
      s->active = 0;
      s->nsub = nsub;
      active--;
      if (st < 0) {
        if (!j->err) printf("blkwork: %s at offset %llu: error %d\n", j->name, (unsigned long long)s->off, st);
        if (!j->err) j->err = st;
        continue;
      }
      if (!j->write && j->check && j->check(s->buf, s->off, opt_bs) < 0 && !j->err) j->err = -XEN_EIO;
      uint64_t lat = last - subs[s->first_sub].submit_ns; /* from the first submit, not queueing */
      j->lat_sum_ns += lat;
      if (lat > j->lat_max_ns) j->lat_max_ns = lat;
      if (j->done_ops < MAX_LAT_SAMPLES) lat_us[j->done_ops] = (uint32_t)(lat / 1000);
      j->done_ops++;
      j->bytes += opt_bs;
      if (opt_ack && j->write) printf("blkwork: ack %llu\n", (unsigned long long)s->off);
    }
  }
  j->elapsed_ns = now_ns() - t0;
  return j->err;
}

/* ---- modes ---- */

static void print_stats(void) {
  if (ata) {
    const struct ata_stats *a = ata_get_stats(ata);
    printf("blkwork ata-stats commands=%llu cmd28=%llu cmd48=%llu multiple=%llu irqs=%llu flushes=%llu errors=%llu "
           "timeouts=%llu\n",
           (unsigned long long)a->commands, (unsigned long long)a->cmd28, (unsigned long long)a->cmd48,
           (unsigned long long)a->multiple_cmds, (unsigned long long)a->irqs, (unsigned long long)a->flushes,
           (unsigned long long)a->errors, (unsigned long long)a->timeouts);
  }
  if (!bf) return;
  const struct blkfront_stats *st = blkfront_get_stats(bf);
  printf("blkwork stats requests=%llu indirect=%llu bounced=%llu notifies=%llu polls=%llu lazy_wakeups=%llu "
         "grant_end_failures=%llu bounce_bytes=%llu bounce_cycles=%llu registered=%llu registered_grants=%llu "
         "reconnects=%llu reissued=%llu\n",
         (unsigned long long)st->requests, (unsigned long long)st->indirect, (unsigned long long)st->bounced,
         (unsigned long long)st->notifies, (unsigned long long)st->polls, (unsigned long long)st->lazy_wakeups,
         (unsigned long long)st->grant_end_failures, (unsigned long long)st->bounce_bytes,
         (unsigned long long)st->bounce_cycles, (unsigned long long)st->registered,
         (unsigned long long)st->registered_grants, (unsigned long long)st->reconnects,
         (unsigned long long)st->reissued);
}

static void seq_mode(const char *name, int write, int (*check)(const uint8_t *, uint64_t, uint32_t)) {
  struct job j = {.name = name, .write = write, .nops = opt_size / opt_bs, .offset = seq_offset,
                  .prepare = guest_fill, .check = check};
  int rc = run_job(&j, opt_qd);
  if (rc == 0 && write) {
    rc = block_flush(dev);
    if (rc < 0) printf("blkwork: %s: flush: %d\n", name, rc);
  }
  CHECK_EQ(rc, 0);
  CHECK_EQ(mismatches, 0);
  if (rc == 0 && mismatches == 0)
    printf("blkwork: %s bytes=%llu bs=%u qd=%u ok\n", name, (unsigned long long)j.bytes, opt_bs, opt_qd);
}

static void bench_mode(const char *op, int write, int random) {
  struct job j = {.name = op, .write = write, .nops = random ? opt_ops : opt_size / opt_bs,
                  .offset = random ? rand_offset : seq_offset};
  if (write) /* contents: the guest pattern, prepared once */
    for (unsigned i = 0; i < opt_qd; i++) guest_fill(arena + (size_t)i * opt_bs, 0, opt_bs);
  rng_seed(opt_seed);
  int rc = run_job(&j, opt_qd);
  if (!CHECK_EQ(rc, 0)) return;
  uint64_t ns = j.elapsed_ns ? j.elapsed_ns : 1;
  uint64_t mmb = j.bytes * 1000000ull / ns; /* MB/s * 1000 */
  uint64_t iops = j.done_ops * 1000000000ull / ns;
  uint64_t lat10 = j.done_ops ? j.lat_sum_ns / j.done_ops / 100 : 0; /* 0.1 us */
  unsigned samples = j.done_ops < MAX_LAT_SAMPLES ? (unsigned)j.done_ops : MAX_LAT_SAMPLES;
  uint32_t p50 = samples ? kth_smallest(lat_us, samples, samples / 2) : 0;
  uint32_t p99 = samples ? kth_smallest(lat_us, samples, (unsigned)((uint64_t)samples * 99 / 100)) : 0;
  printf("blkwork bench op=%s bs=%u qd=%u ops=%llu bytes=%llu elapsed_us=%llu %s_mb_s=%llu.%03llu iops=%llu "
         "avg_lat_us=%llu.%llu max_lat_us=%llu p50_lat_us=%u p99_lat_us=%u\n",
         op, opt_bs, opt_qd, (unsigned long long)j.done_ops, (unsigned long long)j.bytes,
         (unsigned long long)(ns / 1000), write ? "write" : "read", (unsigned long long)(mmb / 1000),
         (unsigned long long)(mmb % 1000), (unsigned long long)iops, (unsigned long long)(lat10 / 10),
         (unsigned long long)(lat10 % 10), (unsigned long long)(j.lat_max_ns / 1000), p50, p99);
}

/* Time `ops` event-channel sends on the PV disk's port (kick) or null hypercalls (nullcall). */
static void call_mode(const char *op, int kick) {
  if (kick && !bf) bad_option("mode=kick needs a PV disk");
  uint64_t t0 = now_ns(), c0 = rdtsc();
  for (uint64_t i = 0; i < opt_ops; i++) {
    if (kick) blkfront_notify(bf);
    else HYPERVISOR_xen_version(XENVER_version, NULL);
  }
  uint64_t cycles = rdtsc() - c0, ns = now_ns() - t0;
  uint64_t n = opt_ops ? opt_ops : 1;
  printf("blkwork bench op=%s ops=%llu elapsed_us=%llu ns_per_op=%llu cycles_per_op=%llu\n", op,
         (unsigned long long)opt_ops, (unsigned long long)(ns / 1000), (unsigned long long)(ns / n),
         (unsigned long long)(cycles / n));
}

/* -- random torture -- */

static void stamp_fill(uint8_t *p, uint64_t sector, uint32_t nsect, uint32_t gen) {
  for (uint32_t s = 0; s < nsect; s++, p += 512) {
    uint64_t lba = sector + s;
    uint32_t seed = (uint32_t)opt_seed;
    uint64_t magic = BLKWORK_MAGIC;
    memcpy(p, &magic, 8);
    memcpy(p + 8, &lba, 8);
    memcpy(p + 16, &gen, 4);
    memcpy(p + 20, &seed, 4);
    for (uint32_t i = 24; i < 512; i++) p[i] = (uint8_t)(lba * 31 + gen * 17 + i);
  }
}

/* Check one block read back against the shadow; 0 if good (or never written). */
static int stamp_check(const uint8_t *p, uint64_t block) {
  uint32_t gen = gen_of[block];
  if (gen == 0) return 0;
  static uint8_t want[512];
  uint64_t first = block * opt_bs / 512;
  for (uint32_t s = 0; s < opt_bs / 512; s++) {
    stamp_fill(want, first + s, 1, gen);
    if (memcmp(p + s * 512, want, 512) != 0) {
      uint64_t got_lba, got_magic;
      uint32_t got_gen;
      memcpy(&got_magic, p + s * 512, 8);
      memcpy(&got_lba, p + s * 512 + 8, 8);
      memcpy(&got_gen, p + s * 512 + 16, 4);
      if (mismatches++ < 8)
        printf("blkwork: random: sector %llu: want gen %u, found magic %s lba %llu gen %u\n",
               (unsigned long long)(first + s), gen, got_magic == BLKWORK_MAGIC ? "ok" : "bad",
               (unsigned long long)got_lba, got_gen);
      return -1;
    }
  }
  return 0;
}

struct rslot {
  struct block_req req;
  int active;
  uint64_t block;
  uint32_t nblocks;
};

static void random_mode(void) {
  uint64_t nblocks = opt_size / opt_bs;
  if (nblocks > MAX_BLOCKS) bad_option("size/bs is more than 65536 blocks");
  uint32_t max_blocks = MAX_RANDOM_BLOCKS;
  uint32_t per_req = dev->max_count * dev->sector_size / opt_bs;
  if (per_req == 0) bad_option("bs larger than one request");
  if (max_blocks > per_req) max_blocks = per_req;
  if (max_blocks > nblocks) max_blocks = (uint32_t)nblocks;
  unsigned qd = opt_qd;
  while (qd > 1 && (uint64_t)qd * max_blocks * opt_bs > ARENA_BYTES) qd--;
  if ((uint64_t)max_blocks * opt_bs > ARENA_BYTES) max_blocks = ARENA_BYTES / opt_bs;
  static struct rslot rs[MAX_QD];
  memset(rs, 0, sizeof(rs));
  memset(gen_of, 0, sizeof(gen_of));
  memset(busy_of, 0, sizeof(busy_of));
  rng_seed(opt_seed);
  uint32_t next_gen = 1;
  uint64_t issued = 0, reads = 0, writes = 0, flushes = 0, verified = 0;
  unsigned active = 0;
  int err = 0;
  while ((issued < opt_ops && !err) || active) {
    for (unsigned i = 0; i < qd && issued < opt_ops && !err; i++) {
      struct rslot *s = &rs[i];
      if (s->active) continue;
      unsigned pick = (unsigned)rng_below(100);
      struct block_req *r = &s->req;
      memset(r, 0, sizeof(*r));
      if (pick >= 95) {
        r->op = BLOCK_OP_FLUSH;
        if (!dev->can_flush) continue;
      } else {
        uint32_t n = 1 + (uint32_t)rng_below(max_blocks);
        uint64_t b = rng_below(nblocks - n + 1);
        int clash = 0;
        for (uint32_t k = 0; k < n; k++) clash |= busy_of[b + k];
        if (clash) continue; /* try another pick next round */
        r->op = pick < 45 ? BLOCK_OP_WRITE : BLOCK_OP_READ;
        r->lba = b * opt_bs / dev->sector_size;
        r->count = n * opt_bs / dev->sector_size;
        r->buf = arena + (size_t)i * max_blocks * opt_bs;
        s->block = b;
        s->nblocks = n;
        if (r->op == BLOCK_OP_WRITE)
          for (uint32_t k = 0; k < n; k++)
            stamp_fill((uint8_t *)r->buf + (size_t)k * opt_bs, (b + k) * opt_bs / 512, opt_bs / 512, next_gen);
      }
      int rc = block_submit(dev, r);
      if (rc == -XEN_EBUSY) break;
      if (rc < 0) {
        printf("blkwork: random: submit %s: %d\n", block_op_name(r->op), rc);
        err = rc;
        break;
      }
      s->active = 1;
      active++;
      issued++;
      if (r->op != BLOCK_OP_FLUSH)
        for (uint32_t k = 0; k < s->nblocks; k++) {
          busy_of[s->block + k] = 1;
          if (r->op == BLOCK_OP_WRITE) gen_of[s->block + k] = next_gen; /* nothing else on it is in flight */
        }
      if (r->op == BLOCK_OP_WRITE) next_gen++;
    }
    if (!active) continue;
    int rc = block_poll(dev, opt_timeout_ns);
    if (rc < 0) {
      printf("blkwork: random: poll: %d\n", rc);
      err = rc;
      break;
    }
    for (unsigned i = 0; i < qd; i++) {
      struct rslot *s = &rs[i];
      if (!s->active || s->req.status == BLOCK_PENDING) continue;
      s->active = 0;
      active--;
      struct block_req *r = &s->req;
      if (opt_progress && (reads + writes + flushes + 1) % opt_progress == 0)
        printf("blkwork: progress %llu\n", (unsigned long long)(reads + writes + flushes + 1));
      if (r->status < 0) {
        printf("blkwork: random: %s lba %llu count %u: error %d\n", block_op_name(r->op),
               (unsigned long long)r->lba, r->count, r->status);
        if (!err) err = r->status;
      }
      if (r->op == BLOCK_OP_FLUSH) {
        flushes++;
        continue;
      }
      for (uint32_t k = 0; k < s->nblocks; k++) busy_of[s->block + k] = 0;
      if (r->op == BLOCK_OP_WRITE) {
        writes++;
        continue;
      }
      reads++;
      if (r->status == 0)
        for (uint32_t k = 0; k < s->nblocks; k++) {
          if (gen_of[s->block + k]) verified++;
          if (stamp_check((uint8_t *)r->buf + (size_t)k * opt_bs, s->block + k) < 0 && !err) err = -XEN_EIO;
        }
    }
  }
  CHECK_EQ(err, 0);
  if (err) return;
  /* The final pass: every written block, read back synchronously. */
  uint64_t written = 0;
  for (uint64_t b = 0; b < nblocks; b++) {
    if (!gen_of[b]) continue;
    int rc = block_read(dev, b * opt_bs / dev->sector_size, opt_bs / dev->sector_size, arena);
    if (!CHECK_EQ(rc, 0)) return;
    if (!CHECK(stamp_check(arena, b) == 0)) return;
    written++;
  }
  printf("blkwork: random ops=%llu reads=%llu writes=%llu flushes=%llu verified_blocks=%llu written_blocks=%llu ok\n",
         (unsigned long long)issued, (unsigned long long)reads, (unsigned long long)writes,
         (unsigned long long)flushes, (unsigned long long)verified, (unsigned long long)written);
}

/* -- read-only check -- */

static void readonly_check(void) {
  CHECK(dev->readonly);
  uint32_t n = 1;
  uint8_t *before = arena, *after = arena + 4096;
  int rc = block_read(dev, 0, n, before);
  if (!CHECK_EQ(rc, 0)) return;
  rc = block_write(dev, 0, n, before); /* unchanged data, even if it wrongly went through */
  printf("blkwork: write to the read-only disk: %d\n", rc);
  CHECK(rc < 0);
  rc = block_read(dev, 0, n, after);
  CHECK_EQ(rc, 0);
  CHECK(memcmp(before, after, dev->sector_size) == 0);
  if (rc == 0) printf("blkwork: read-only disk refused the write, reads still work\n");
}

int main(void) {
  char mode[24] = "";
  pvkvm_cmdline_get("mode", mode, sizeof(mode));
  int expect_ro = pvkvm_cmdline_ull("expect-readonly", 0) != 0;
  int random = strcmp(mode, "random") == 0;
  uint64_t bs64;
  if (opt_bytes("size", random ? (4u << 20) : (1u << 20), &opt_size) < 0) bad_option("size");
  if (opt_bytes("bs", 4096, &bs64) < 0 || bs64 == 0 || bs64 > ARENA_BYTES) bad_option("bs");
  opt_bs = (uint32_t)bs64;
  opt_qd = (unsigned)pvkvm_cmdline_ull("qd", 1);
  if (opt_qd == 0 || opt_qd > MAX_QD) bad_option("qd must be 1..64");
  opt_seed = pvkvm_cmdline_ull("seed", 1);
  opt_timeout_ns = pvkvm_cmdline_ull("timeout_ms", 30000) * NSEC_PER_MSEC;
  opt_ack = pvkvm_cmdline_ull("ack", 0);
  opt_progress = pvkvm_cmdline_ull("progress", 0);
  unsigned disk = (unsigned)pvkvm_cmdline_ull("disk", 0);

  int rc = block_open(disk, &dev); /* PV when Xen has a device/vbd, else ATA */
  if (rc < 0) {
    printf("blkwork: cannot open disk %u: %d\n", disk, rc);
    test_exit(TEST_FAILURE);
  }
  if (strcmp(dev->ops->name, "blkfront") == 0) bf = dev->priv;
  if (strcmp(dev->ops->name, "ata") == 0) ata = dev->priv;
  dev->timeout_ns = opt_timeout_ns;
  if (bf) blkfront_print_info(bf);
  if (ata) ata_print_info(ata);
  if (opt_bs % dev->sector_size) bad_option("bs is not a multiple of the sector size");
  if ((uint64_t)opt_bs * opt_qd > ARENA_BYTES) bad_option("bs * qd is more than 4 MiB");
  if (opt_size == 0 || opt_size % opt_bs) bad_option("size must be a non-zero multiple of bs");
  if (opt_size > dev->nr_sectors * dev->sector_size) bad_option("size is larger than the disk");
  opt_ops = pvkvm_cmdline_ull("ops", random ? 1000 : opt_size / opt_bs);

  if (pvkvm_cmdline_ull("register", 0)) {
    rc = block_register_buffer(dev, arena, sizeof(arena));
    printf("blkwork: registered the %u KiB arena as I/O memory: %d\n", (unsigned)(sizeof(arena) >> 10), rc);
    if (rc < 0) test_exit(TEST_FAILURE);
    /* The bench modes' buffers (slot i at arena + i * bs): one untimed read through them, before
     * the "disk" line that starts a benchmark's window, so the measured loop runs in steady state
     * (a registered page is granted on its first use), as the host side reads from a warm cache. */
    uint64_t warm = (uint64_t)opt_qd * opt_bs;
    if (warm > opt_size) warm = opt_size;
    if (strncmp(mode, "bench", 5) == 0 || strcmp(mode, "randread") == 0) {
      rc = block_read(dev, 0, (uint32_t)(warm / dev->sector_size), arena);
      printf("blkwork: warmed %llu KiB of registered memory: %d\n", (unsigned long long)(warm >> 10), rc);
      if (rc < 0) test_exit(TEST_FAILURE);
    }
  }
  printf("blkwork: disk %u %s: %llu sectors of %u bytes, ro=%d, max %u sectors per request, queue depth %u\n",
         disk, dev->name, (unsigned long long)dev->nr_sectors, dev->sector_size, dev->readonly, dev->max_count,
         dev->queue_depth);
  /* The benchmarks record how the driver ran: its code at CPL 3 (the SDK's default) or CPL 0. */
  printf("blkwork: cpl=%d\n", pvkvm_sdk_mode == PVKVM_MODE_USER ? 3 : 0);

  if (expect_ro) readonly_check();
  if (strcmp(mode, "seqwrite") == 0) seq_mode("seqwrite", 1, NULL);
  else if (strcmp(mode, "seqread") == 0) seq_mode("seqread", 0, guest_check);
  else if (strcmp(mode, "verify-host") == 0) seq_mode("verify-host", 0, host_check);
  else if (random) random_mode();
  else if (strcmp(mode, "bench") == 0) bench_mode("read", 0, 0);
  else if (strcmp(mode, "benchwrite") == 0) bench_mode("write", 1, 0);
  else if (strcmp(mode, "randread") == 0) bench_mode("randread", 0, 1);
  else if (strcmp(mode, "kick") == 0) call_mode("kick", 1);
  else if (strcmp(mode, "nullcall") == 0) call_mode("nullcall", 0);
  else if (mode[0] || !expect_ro)
    bad_option("mode must be seqwrite, seqread, verify-host, random, bench, benchwrite, randread, kick or nullcall");

  print_stats();
  if (pvkvm_cmdline_ull("close", 0)) {
    rc = bf ? blkfront_close(bf) : block_close(dev);
    printf("blkwork: close: %d\n", rc);
    CHECK_EQ(rc, 0);
  }
  test_done();
}
