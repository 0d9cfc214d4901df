/*
 * pvkvm/ata.h: an ATA disk on the primary IDE channel (command block 0x1F0-0x1F7, control block
 * 0x3F6, ISA IRQ 14), drive 0, in PIO mode — what QEMU's `-drive if=ide,index=0` and pvkvm's
 * full-virtualization comparator (docs/performance.md §4) emulate. Behind <pvkvm/block.h> it is the disk
 * block_open_default() picks when there is no PV disk.
 *
 *   struct ata_dev *a;
 *   if (ata_open(ATA_POLLED, &a) == 0) {
 *     struct block_dev *d = ata_block(a);    // sector_size 512, can_flush, no discard
 *     block_read(d, 0, 8, buf);
 *   }
 *
 * Open: a floating bus (status 0xFF) or registers that do not hold what is written to them mean
 * no device (-XEN_ENODEV); then a soft reset (SRST), the signature check (an ATAPI or SATA-PI
 * signature is -XEN_ENODEV), IDENTIFY DEVICE and SET MULTIPLE MODE:
 *   capacity  words 100-103 (48-bit) when word 83 bit 10 says LBA48, else words 60-61;
 *   multiple  word 47 bits 7:0 = most sectors per DRQ block of READ/WRITE MULTIPLE (0: none);
 *             the driver sets the largest power of two up to it (cmdline ata.multiple=N caps it,
 *             0 turns READ/WRITE MULTIPLE off).
 * Transfers: READ/WRITE SECTORS (28-bit) when the request fits (LBA + count <= 2^28, count <=
 * 256), else the EXT (48-bit) commands; READ/WRITE MULTIPLE (EXT) when multiple mode is on.
 * Data moves with `rep insw`/`rep outsw`, one DRQ block (1 or `multiple` sectors) at a time.
 * FLUSH CACHE (EXT when LBA48).
 *
 * Modes:
 *   ATA_POLLED  nIEN = 1 (the device raises no interrupt); every wait polls the alternate status
 *               register until BSY clears (then DRQ or ERR), bounded by a timeout.
 *   ATA_IRQ     nIEN = 0, IRQ 14 through <pvkvm/isa.h>; the handler reads the status register (which
 *               acknowledges INTRQ) and records it; a wait sleeps in isa_idle() until the handler
 *               ran. Data-in commands interrupt once per DRQ block, data-out commands once per block
 *               after the first and once at the end, non-data commands once at the end.
 * cmdline ata.mode=polled|irq chooses for block_open (default polled).
 *
 * Errors: status ERR or DF ends the command; the error register is decoded (ABRT: command
 * aborted, IDNF: sector not found, UNC: uncorrectable, ...), printed, kept in ata_stats.last_error
 * and returned as -XEN_EIO. A wait that runs out is -XEN_ETIMEDOUT (the next command soft-resets
 * the channel first). Requests run synchronously: the block_dev has no submit op (queue depth 1).
 */
#ifndef PVKVM_ATA_H
#define PVKVM_ATA_H
#include <stddef.h>
#include <stdint.h>

struct block_dev;
struct ata_dev;

#define ATA_PRIMARY_CMD 0x1F0
#define ATA_PRIMARY_CTL 0x3F6
#define ATA_PRIMARY_IRQ 14
#define ATA_SECTOR_SIZE 512

/* Command block registers (offsets from 0x1F0). */
#define ATA_REG_DATA 0
#define ATA_REG_ERROR 1    /* read */
#define ATA_REG_FEATURES 1 /* write */
#define ATA_REG_COUNT 2
#define ATA_REG_LBA0 3
#define ATA_REG_LBA1 4
#define ATA_REG_LBA2 5
#define ATA_REG_DEVICE 6
#define ATA_REG_STATUS 7  /* read: also acknowledges INTRQ */
#define ATA_REG_COMMAND 7 /* write */

#define ATA_SR_ERR 0x01
#define ATA_SR_DRQ 0x08
#define ATA_SR_DF 0x20
#define ATA_SR_DRDY 0x40
#define ATA_SR_BSY 0x80

#define ATA_ER_AMNF 0x01
#define ATA_ER_TK0NF 0x02
#define ATA_ER_ABRT 0x04
#define ATA_ER_MCR 0x08
#define ATA_ER_IDNF 0x10
#define ATA_ER_MC 0x20
#define ATA_ER_UNC 0x40
#define ATA_ER_ICRC 0x80

#define ATA_CTL_NIEN 0x02 /* device control: no interrupts */
#define ATA_CTL_SRST 0x04 /* device control: software reset */
#define ATA_CTL_HOB 0x80

#define ATA_DEV_LBA 0x40   /* device register: LBA addressing */
#define ATA_DEV_OBS 0xA0   /* device register: obsolete bits, set by convention */

#define ATA_CMD_READ_SECTORS 0x20
#define ATA_CMD_READ_SECTORS_EXT 0x24
#define ATA_CMD_READ_MULTIPLE_EXT 0x29
#define ATA_CMD_WRITE_SECTORS 0x30
#define ATA_CMD_WRITE_SECTORS_EXT 0x34
#define ATA_CMD_WRITE_MULTIPLE_EXT 0x39
#define ATA_CMD_READ_MULTIPLE 0xC4
#define ATA_CMD_WRITE_MULTIPLE 0xC5
#define ATA_CMD_SET_MULTIPLE 0xC6
#define ATA_CMD_FLUSH_CACHE 0xE7
#define ATA_CMD_FLUSH_CACHE_EXT 0xEA
#define ATA_CMD_IDENTIFY 0xEC

#define ATA_TIMEOUT_NS 10000000000ull       /* per wait: 10 s */
#define ATA_FLUSH_TIMEOUT_NS 30000000000ull /* a cache flush may take longer */

enum ata_mode { ATA_POLLED = 0, ATA_IRQ = 1 };

struct ata_info {
  char model[41];      /* IDENTIFY words 27-46, trailing spaces removed */
  char serial[21];     /* words 10-19 */
  uint64_t sectors;    /* capacity in 512-byte sectors */
  int lba48;           /* word 83 bit 10 */
  unsigned max_multiple; /* word 47 bits 7:0 */
  unsigned multiple;   /* sectors per DRQ block in use for READ/WRITE MULTIPLE (0: not used) */
  uint16_t identify[256]; /* the raw IDENTIFY data */
};

struct ata_stats {
  uint64_t commands, sectors_read, sectors_written, flushes;
  uint64_t cmd28, cmd48, multiple_cmds; /* by addressing, and READ/WRITE MULTIPLE (EXT) */
  uint64_t irqs;                        /* IRQ 14 handler runs */
  uint64_t errors, timeouts, resets;
  uint8_t last_error;   /* error register of the last failed command (ATA_ER_*) */
  uint8_t last_status;  /* status register after the last failed command */
  uint8_t last_command;
};

/* Probe, reset and identify drive 0 of the primary channel. 0, -XEN_ENODEV, or -XEN_EIO /
 * -XEN_ETIMEDOUT when the drive misbehaves. A second open returns the same device. */
int ata_open(enum ata_mode mode, struct ata_dev **out);
int ata_close(struct ata_dev *dev);
struct block_dev *ata_block(struct ata_dev *dev);
int ata_set_mode(struct ata_dev *dev, enum ata_mode mode);
enum ata_mode ata_get_mode(const struct ata_dev *dev);
/* SET MULTIPLE MODE to n sectors per block (0 turns READ/WRITE MULTIPLE off); 0 or -errno. */
int ata_set_multiple(struct ata_dev *dev, unsigned n);

/* Synchronous transfers (count >= 1; at most 256 sectors without LBA48, else 65536). */
int ata_read(struct ata_dev *dev, uint64_t lba, uint32_t count, void *buf);
int ata_write(struct ata_dev *dev, uint64_t lba, uint32_t count, const void *buf);
int ata_flush(struct ata_dev *dev);

const struct ata_info *ata_get_info(const struct ata_dev *dev);
const struct ata_stats *ata_get_stats(const struct ata_dev *dev);
void ata_print_info(const struct ata_dev *dev); /* one "ata: ..." line */
/* "ABRT IDNF ..." for an error register value, into buf. */
const char *ata_error_string(uint8_t err, char *buf, size_t len);

/* The ATA disk in the block API's driver table (block=ata; drive 0, cmdline ata.mode=). */
extern const struct block_driver ata_block_driver;

#endif
