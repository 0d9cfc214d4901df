/* ata.c: the primary-channel ATA disk (drive 0) in PIO mode, polled or on IRQ 14, and its
 * <pvkvm/block.h> provider; see <pvkvm/ata.h>. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/ata.h>
#include <pvkvm/kcall.h>
#include <pvkvm/block.h>
#include <pvkvm/console.h>
#include <pvkvm/isa.h>
#include <pvkvm/lapic.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include <pvkvm/xen.h>

#define LBA28_LIMIT (1ull << 28)

struct ata_dev {
  struct block_dev bdev;
  struct ata_info info;
  struct ata_stats stats;
  enum ata_mode mode;
  int opened;
  int needs_reset;                /* a command timed out: soft-reset before the next one */
  volatile uint32_t irq_seq;      /* bumped by the IRQ 14 handler */
  volatile uint8_t irq_status;    /* the status register as the handler read it */
};

static struct ata_dev the_dev; /* drive 0 of the primary channel: the only one */

/* ---- register access ---- */

static inline uint8_t reg_in(unsigned r) { return inb(ATA_PRIMARY_CMD + r); }
static inline void reg_out(unsigned r, uint8_t v) { outb(ATA_PRIMARY_CMD + r, v); }
static inline uint8_t alt_status(void) { return inb(ATA_PRIMARY_CTL); } /* does not ack INTRQ */

static void set_control(const struct ata_dev *d, uint8_t extra) {
  outb(ATA_PRIMARY_CTL, extra | (d->mode == ATA_IRQ ? 0 : ATA_CTL_NIEN));
}

/* The 400 ns a device may take to put up its status after a command or a drive select. */
static void delay400(void) {
  for (int i = 0; i < 4; i++) (void)alt_status();
}

/* Data blocks move with rep insw/outsw, which fault at CPL 3 whatever the I/O bitmap says: the
 * kernel runs them on our buffer (one kernel call per DRQ block). */
static inline void insw(uint16_t port, void *buf, size_t words) {
  pvkvm_string_io(PVKVM_SIO_IN | PVKVM_SIO_WORD, port, buf, words);
}

static inline void outsw(uint16_t port, const void *buf, size_t words) {
  pvkvm_string_io(PVKVM_SIO_OUT | PVKVM_SIO_WORD, port, (void *)buf, words);
}

const char *ata_error_string(uint8_t err, char *buf, size_t len) {
  static const char *const names[8] = {"AMNF", "TK0NF", "ABRT", "MCR", "IDNF", "MC", "UNC", "ICRC"};
  size_t n = 0;
  if (len) buf[0] = '\0';
  for (int b = 0; b < 8; b++)
    if (err & (1u << b)) n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "%s%s", n ? " " : "", names[b]);
  if (!err) snprintf(buf, len, "none");
  return buf;
}

/* ---- waiting ---- */

/* Poll the alternate status until BSY clears: the status, or -XEN_ETIMEDOUT. */
static int poll_not_busy(uint64_t timeout_ns) {
  uint8_t s = alt_status();
  if (!(s & ATA_SR_BSY)) return s;
  uint64_t deadline = isa_deadline(timeout_ns);
  for (;;) {
    s = alt_status();
    if (!(s & ATA_SR_BSY)) return s;
    if (isa_time_ns() >= deadline) return -XEN_ETIMEDOUT;
    cpu_relax();
  }
}

/* The end of a device phase: in IRQ mode the interrupt after `seq` (the handler read the status),
 * otherwise BSY clearing. Called with interrupts off; they are on while isa_idle halts. */
static int wait_phase(struct ata_dev *d, int use_irq, uint32_t seq, uint64_t timeout_ns) {
  if (!use_irq) return poll_not_busy(timeout_ns);
  uint64_t deadline = isa_deadline(timeout_ns);
  while (__atomic_load_n(&d->irq_seq, __ATOMIC_ACQUIRE) == seq) {
    if (isa_time_ns() >= deadline) return -XEN_ETIMEDOUT;
    isa_idle(deadline);
    cli();
  }
  uint8_t s = d->irq_status;
  if (s & ATA_SR_BSY) return poll_not_busy(timeout_ns); /* not expected; be safe */
  return s;
}

static void ata_irq(unsigned irq, void *arg) {
  struct ata_dev *d = arg;
  (void)irq;
  d->irq_status = reg_in(ATA_REG_STATUS); /* reading STATUS acknowledges INTRQ */
  d->stats.irqs++;
  __atomic_add_fetch(&d->irq_seq, 1, __ATOMIC_RELEASE);
}

/* ---- reset and probe ---- */

static int soft_reset(struct ata_dev *d) {
  d->stats.resets++;
  outb(ATA_PRIMARY_CTL, ATA_CTL_SRST | ATA_CTL_NIEN);
  isa_delay_ns(5000);
  set_control(d, 0);
  isa_delay_ns(2000000); /* the device sets BSY within 2 ms of SRST going away */
  int s = poll_not_busy(ATA_TIMEOUT_NS);
  if (s < 0) {
    printf("ata: the drive stays busy after a soft reset\n");
    return s;
  }
  reg_out(ATA_REG_DEVICE, ATA_DEV_OBS); /* select drive 0 */
  delay400();
  d->needs_reset = 0;
  return 0;
}

/* Is anything decoding the command block? A floating bus reads 0xFF, and QEMU reads an empty
 * channel as 0; a real register file holds what is written. */
static int probe(void) {
  if (reg_in(ATA_REG_STATUS) == 0xFF) return -XEN_ENODEV;
  reg_out(ATA_REG_DEVICE, ATA_DEV_OBS);
  delay400();
  reg_out(ATA_REG_COUNT, 0x55);
  reg_out(ATA_REG_LBA0, 0xAA);
  uint8_t a = reg_in(ATA_REG_COUNT), b = reg_in(ATA_REG_LBA0);
  reg_out(ATA_REG_COUNT, 0xAA);
  reg_out(ATA_REG_LBA0, 0x55);
  uint8_t c = reg_in(ATA_REG_COUNT), e = reg_in(ATA_REG_LBA0);
  return a == 0x55 && b == 0xAA && c == 0xAA && e == 0x55 ? 0 : -XEN_ENODEV;
}

/* ---- commands ---- */

/* Report a failed command (status ERR or DF) and return -XEN_EIO. */
static int command_error(struct ata_dev *d, uint8_t cmd, uint64_t lba, uint32_t count, uint8_t status) {
  uint8_t err = reg_in(ATA_REG_ERROR);
  char names[48];
  d->stats.errors++;
  d->stats.last_error = err;
  d->stats.last_status = status;
  d->stats.last_command = cmd;
  (void)reg_in(ATA_REG_STATUS); /* acknowledge a pending interrupt */
  printf("ata: command %#x lba %llu count %u failed: status %#x%s, error %#x (%s)\n", cmd,
         (unsigned long long)lba, count, status, status & ATA_SR_DF ? " (device fault)" : "", err,
         ata_error_string(err, names, sizeof(names)));
  return -XEN_EIO;
}

static int command_timeout(struct ata_dev *d, uint8_t cmd, uint64_t lba) {
  d->stats.timeouts++;
  d->stats.last_command = cmd;
  d->needs_reset = 1;
  printf("ata: command %#x lba %llu timed out (status %#x)\n", cmd, (unsigned long long)lba, alt_status());
  return -XEN_ETIMEDOUT;
}

/* Load the task file and write the command register. 48-bit commands take the high-order
 * bytes first (the "previous" contents of each FIFO register). */
static void issue(uint8_t cmd, int ext, uint64_t lba, uint32_t count) {
  if (ext) {
    reg_out(ATA_REG_DEVICE, ATA_DEV_OBS | ATA_DEV_LBA);
    reg_out(ATA_REG_COUNT, (uint8_t)(count >> 8)); /* 65536 is written as 0 */
    reg_out(ATA_REG_LBA0, (uint8_t)(lba >> 24));
    reg_out(ATA_REG_LBA1, (uint8_t)(lba >> 32));
    reg_out(ATA_REG_LBA2, (uint8_t)(lba >> 40));
  } else {
    reg_out(ATA_REG_DEVICE, ATA_DEV_OBS | ATA_DEV_LBA | (uint8_t)((lba >> 24) & 0x0F));
  }
  reg_out(ATA_REG_COUNT, (uint8_t)count); /* 28-bit: 256 is written as 0 */
  reg_out(ATA_REG_LBA0, (uint8_t)lba);
  reg_out(ATA_REG_LBA1, (uint8_t)(lba >> 8));
  reg_out(ATA_REG_LBA2, (uint8_t)(lba >> 16));
  reg_out(ATA_REG_COMMAND, cmd);
}

/* Before a command: reset after a timeout, and wait until the drive is idle (BSY and DRQ clear). */
static int prepare(struct ata_dev *d, uint64_t timeout_ns) {
  if (d->needs_reset) {
    int rc = soft_reset(d);
    if (rc < 0) return rc;
  }
  int s = poll_not_busy(timeout_ns);
  if (s < 0) return s;
  if (s & ATA_SR_DRQ) { /* a transfer left half done: start over */
    int rc = soft_reset(d);
    if (rc < 0) return rc;
  }
  return 0;
}

static uint64_t wait_timeout(const struct ata_dev *d) {
  return d->bdev.timeout_ns ? d->bdev.timeout_ns : ATA_TIMEOUT_NS;
}

/*
 * One PIO command. Data-in (read = 1, buf != NULL): per DRQ block, wait (interrupt or !BSY), check,
 * `rep insw`. Data-out (read = 0, buf != NULL): poll for the first DRQ (no interrupt before it),
 * then per block `rep outsw` and wait. Non-data (buf == NULL): wait once. `per_block` is the DRQ
 * block size in sectors (1, or the multiple count).
 */
static int pio_command(struct ata_dev *d, uint8_t cmd, int ext, uint64_t lba, uint32_t count, int read,
                       void *buf, unsigned per_block, uint64_t timeout_ns) {
  int rc = prepare(d, timeout_ns);
  if (rc < 0) return rc == -XEN_ETIMEDOUT ? command_timeout(d, cmd, lba) : rc;
  unsigned long flags = local_irq_save();
  /* IRQ mode: every wait is a sleep point (interrupts on while halted, see <pvkvm/isa.h>),
   * except inside an ISA interrupt handler, which polls. */
  int use_irq = d->mode == ATA_IRQ && !isa_in_irq();
  d->stats.commands++;
  uint32_t seq = d->irq_seq;
  issue(cmd, ext, lba, count); /* SET MULTIPLE MODE: the block size; FLUSH: 0 */
  delay400();
  int s = 0;
  if (!buf) { /* non-data */
    s = wait_phase(d, use_irq, seq, timeout_ns);
    if (s < 0) goto timeout;
    if (s & (ATA_SR_ERR | ATA_SR_DF)) goto error;
    goto done;
  }
  uint8_t *p = buf;
  uint32_t left = count;
  if (!read) { /* data-out: the first DRQ comes without an interrupt */
    s = poll_not_busy(timeout_ns);
    if (s < 0) goto timeout;
  }
  while (left) {
    unsigned n = left < per_block ? left : per_block;
    if (read) {
      s = wait_phase(d, use_irq, seq, timeout_ns);
      if (s < 0) goto timeout;
      seq = d->irq_seq;
    }
    if (s & (ATA_SR_ERR | ATA_SR_DF)) goto error;
    if (!(s & ATA_SR_DRQ)) {
      printf("ata: command %#x lba %llu: no DRQ with %u sectors to go (status %#x)\n", cmd,
             (unsigned long long)lba, left, s);
      d->needs_reset = 1;
      goto error;
    }
    if (read) insw(ATA_PRIMARY_CMD + ATA_REG_DATA, p, (size_t)n * 256);
    else outsw(ATA_PRIMARY_CMD + ATA_REG_DATA, p, (size_t)n * 256);
    p += (size_t)n * ATA_SECTOR_SIZE;
    left -= n;
    delay400(); /* BSY goes up within 400 ns of the block's last word */
    if (!read) {
      s = wait_phase(d, use_irq, seq, timeout_ns); /* the block was taken (written) */
      if (s < 0) goto timeout;
      seq = d->irq_seq;
    }
  }
  /* After the last block: no more DRQ, no error. */
  s = read ? poll_not_busy(timeout_ns) : s;
  if (s < 0) goto timeout;
  if (s & (ATA_SR_ERR | ATA_SR_DF)) goto error;
  if (s & ATA_SR_DRQ) {
    printf("ata: command %#x lba %llu: DRQ still set after the last block (status %#x)\n", cmd,
           (unsigned long long)lba, s);
    d->needs_reset = 1;
    goto error;
  }
done:
  if (!use_irq) (void)reg_in(ATA_REG_STATUS); /* acknowledge INTRQ (polling in IRQ mode) */
  local_irq_restore(flags);
  return 0;
error:
  rc = command_error(d, cmd, lba, count, (uint8_t)s);
  local_irq_restore(flags);
  return rc;
timeout:
  rc = command_timeout(d, cmd, lba);
  local_irq_restore(flags);
  return rc;
}

static int transfer(struct ata_dev *d, uint64_t lba, uint32_t count, void *buf, int read) {
  if (count == 0) return 0;
  if (lba >= d->info.sectors || count > d->info.sectors - lba) return -XEN_ERANGE;
  int ext = lba + count > LBA28_LIMIT || count > 256;
  if (ext && (!d->info.lba48 || count > 65536)) return -XEN_ERANGE;
  unsigned per_block = d->info.multiple ? d->info.multiple : 1;
  uint8_t cmd;
  if (d->info.multiple)
    cmd = read ? (ext ? ATA_CMD_READ_MULTIPLE_EXT : ATA_CMD_READ_MULTIPLE)
               : (ext ? ATA_CMD_WRITE_MULTIPLE_EXT : ATA_CMD_WRITE_MULTIPLE);
  else
    cmd = read ? (ext ? ATA_CMD_READ_SECTORS_EXT : ATA_CMD_READ_SECTORS)
               : (ext ? ATA_CMD_WRITE_SECTORS_EXT : ATA_CMD_WRITE_SECTORS);
  int rc = pio_command(d, cmd, ext, lba, count, read, buf, per_block, wait_timeout(d));
  if (rc == 0) {
    if (ext) d->stats.cmd48++;
    else d->stats.cmd28++;
    if (d->info.multiple) d->stats.multiple_cmds++;
    if (read) d->stats.sectors_read += count;
    else d->stats.sectors_written += count;
  }
  return rc;
}

int ata_read(struct ata_dev *d, uint64_t lba, uint32_t count, void *buf) { return transfer(d, lba, count, buf, 1); }

int ata_write(struct ata_dev *d, uint64_t lba, uint32_t count, const void *buf) {
  return transfer(d, lba, count, (void *)buf, 0);
}

int ata_flush(struct ata_dev *d) {
  uint64_t t = wait_timeout(d) > ATA_FLUSH_TIMEOUT_NS ? wait_timeout(d) : ATA_FLUSH_TIMEOUT_NS;
  uint8_t cmd = d->info.lba48 ? ATA_CMD_FLUSH_CACHE_EXT : ATA_CMD_FLUSH_CACHE;
  int rc = pio_command(d, cmd, 0, 0, 0, 0, NULL, 1, t);
  if (rc == 0) d->stats.flushes++;
  return rc;
}

int ata_set_multiple(struct ata_dev *d, unsigned n) {
  if (n > d->info.max_multiple || (n & (n - 1))) return -XEN_EINVAL;
  if (n == 0) { /* READ/WRITE SECTORS from now on; the drive's setting does not matter */
    d->info.multiple = 0;
    return 0;
  }
  /* SET MULTIPLE MODE: the count register holds the block size; non-data. */
  int rc = pio_command(d, ATA_CMD_SET_MULTIPLE, 0, 0, n, 0, NULL, 1, wait_timeout(d));
  d->info.multiple = rc == 0 ? n : 0;
  return rc;
}

/* IDENTIFY DEVICE: one 512-byte data-in block. */
static int identify(struct ata_dev *d) {
  struct ata_info *in = &d->info;
  int rc = pio_command(d, ATA_CMD_IDENTIFY, 0, 0, 1, 1, in->identify, 1, ATA_TIMEOUT_NS);
  if (rc < 0) return rc;
  const uint16_t *w = in->identify;
  /* Strings are big-endian within each word, padded with spaces. */
  for (int i = 0; i < 20; i++) {
    in->model[2 * i] = (char)(w[27 + i] >> 8);
    in->model[2 * i + 1] = (char)w[27 + i];
  }
  for (int i = 0; i < 10; i++) {
    in->serial[2 * i] = (char)(w[10 + i] >> 8);
    in->serial[2 * i + 1] = (char)w[10 + i];
  }
  for (int i = 39; i >= 0 && (in->model[i] == ' ' || in->model[i] == 0); i--) in->model[i] = 0;
  for (int i = 19; i >= 0 && (in->serial[i] == ' ' || in->serial[i] == 0); i--) in->serial[i] = 0;
  if (!(w[49] & (1u << 9))) {
    printf("ata: the drive does not do LBA addressing (CHS only): not supported\n");
    return -XEN_ENODEV;
  }
  uint64_t lba28 = (uint64_t)w[60] | ((uint64_t)w[61] << 16);
  uint64_t lba48 = (uint64_t)w[100] | ((uint64_t)w[101] << 16) | ((uint64_t)w[102] << 32) | ((uint64_t)w[103] << 48);
  in->lba48 = (w[83] & (1u << 10)) != 0;
  in->sectors = in->lba48 && lba48 ? lba48 : lba28;
  in->max_multiple = w[47] & 0xFF;
  return 0;
}

/* ---- the block_dev provider ---- */

static int blk_read(struct block_dev *bd, uint64_t lba, uint32_t count, void *buf) {
  return ata_read(bd->priv, lba, count, buf);
}
static int blk_write(struct block_dev *bd, uint64_t lba, uint32_t count, const void *buf) {
  return ata_write(bd->priv, lba, count, buf);
}
static int blk_flush(struct block_dev *bd) { return ata_flush(bd->priv); }
static int blk_close(struct block_dev *bd) { return ata_close(bd->priv); }

static const struct block_ops ata_ops = {
    .name = "ata",
    .read = blk_read,
    .write = blk_write,
    .flush = blk_flush,
    .close = blk_close,
};

struct block_dev *ata_block(struct ata_dev *d) { return &d->bdev; }
const struct ata_info *ata_get_info(const struct ata_dev *d) { return &d->info; }
const struct ata_stats *ata_get_stats(const struct ata_dev *d) { return &d->stats; }
enum ata_mode ata_get_mode(const struct ata_dev *d) { return d->mode; }

int ata_set_mode(struct ata_dev *d, enum ata_mode mode) {
  if (mode == d->mode) return 0;
  if (mode == ATA_IRQ) {
    /* Unmask the line before the device may raise it (an IOAPIC drops a masked edge). */
    int rc = isa_irq_attach(ATA_PRIMARY_IRQ, ata_irq, d);
    if (rc < 0) return rc;
    d->mode = ATA_IRQ;
    (void)reg_in(ATA_REG_STATUS); /* nothing stale pending */
    set_control(d, 0);             /* nIEN = 0 */
  } else {
    d->mode = ATA_POLLED;
    set_control(d, 0); /* nIEN = 1 */
    isa_irq_detach(ATA_PRIMARY_IRQ);
  }
  return 0;
}

void ata_print_info(const struct ata_dev *d) {
  const struct ata_info *in = &d->info;
  printf("ata: primary master \"%s\" serial \"%s\": %llu sectors, lba48=%d, multiple=%u (max %u), mode=%s, irq route=%s\n",
         in->model, in->serial, (unsigned long long)in->sectors, in->lba48, in->multiple, in->max_multiple,
         d->mode == ATA_IRQ ? "irq" : "polled", d->mode == ATA_IRQ ? isa_irq_route_name(isa_irq_init(ISA_ROUTE_AUTO)) : "-");
}

int ata_open(enum ata_mode mode, struct ata_dev **out) {
  struct ata_dev *d = &the_dev;
  if (d->opened) {
    *out = d;
    return 0;
  }
  /* Our ports only: the command block and the control register (alternate status). */
  if (pvkvm_ioperm(ATA_PRIMARY_CMD, 8, 1) < 0 || pvkvm_ioperm(ATA_PRIMARY_CTL, 1, 1) < 0)
    return -XEN_ENODEV;
  int rc = probe();
  if (rc < 0) return rc;
  memset(d, 0, sizeof(*d));
  d->mode = ATA_POLLED; /* identify and set up without interrupts */
  rc = soft_reset(d);
  if (rc < 0) return rc;
  /* The signature a reset leaves: ATA is count 1, LBA 1/0/0; packet devices (CD-ROMs) are not
   * block disks for us. */
  uint8_t l1 = reg_in(ATA_REG_LBA1), l2 = reg_in(ATA_REG_LBA2);
  if ((l1 == 0x14 && l2 == 0xEB) || (l1 == 0x69 && l2 == 0x96)) return -XEN_ENODEV;
  if (alt_status() == 0) return -XEN_ENODEV; /* an empty slot answers with status 0 */
  rc = identify(d);
  if (rc == -XEN_EIO && (d->stats.last_error & ATA_ER_ABRT)) return -XEN_ENODEV; /* not an ATA disk */
  if (rc < 0) return rc;
  if (d->info.sectors == 0) return -XEN_ENODEV;
  /* READ/WRITE MULTIPLE with the largest power-of-two block the drive allows (ata.multiple=N caps). */
  unsigned long long cap = pvkvm_cmdline_ull("ata.multiple", 256);
  unsigned n = 0;
  for (unsigned m = 2; m <= d->info.max_multiple && m <= cap; m <<= 1) n = m;
  if (n && ata_set_multiple(d, n) < 0) printf("ata: SET MULTIPLE MODE %u refused; using READ/WRITE SECTORS\n", n);

  struct block_dev *bd = &d->bdev;
  bd->ops = &ata_ops;
  bd->priv = d;
  snprintf(bd->name, sizeof(bd->name), "ata/primary/0");
  bd->sector_size = ATA_SECTOR_SIZE;
  bd->nr_sectors = d->info.sectors;
  bd->readonly = 0;
  bd->can_flush = 1;
  bd->can_discard = 0;
  bd->max_count = d->info.lba48 ? 65536 : 256;
  bd->queue_depth = 1;
  bd->timeout_ns = BLOCK_DEFAULT_TIMEOUT_NS;
  d->opened = 1;
  if (mode == ATA_IRQ && (rc = ata_set_mode(d, ATA_IRQ)) < 0) {
    d->opened = 0;
    return rc;
  }
  *out = d;
  return 0;
}

int ata_close(struct ata_dev *d) {
  if (!d->opened) return -XEN_EINVAL;
  ata_set_mode(d, ATA_POLLED);
  d->opened = 0;
  return 0;
}
