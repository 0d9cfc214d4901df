/*
 * ataerr: the ATA driver's error reporting and mode switches (<pvkvm/ata.h>), on an emulated IDE
 * disk (QEMU -drive if=ide,index=0) that holds blkwork's host pattern:
 * byte(o) = (o * 7 + (o >> 9)) & 0xff.
 *
 *   1. Reads sector 1 polled and checks the pattern.
 *   2. Pretends the disk is 64 sectors larger (the driver's own range check then lets the command
 *      through) and reads and writes past the real end: the device must abort (status ERR, error
 *      register ABRT or IDNF), the driver must return -XEN_EIO and keep the error register, and
 *      the next command must work.
 *   3. Switches to IRQ 14 mode, and between READ MULTIPLE and READ SECTORS, re-reading each time.
 * Prints "ataerr: ..." lines and one "Test result:" line.
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/ata.h>

static uint8_t buf[8 * 512];

static int check_pattern(uint64_t lba, uint32_t count) {
  for (uint64_t o = lba * 512; o < (lba + count) * 512; o++)
    if (buf[o - lba * 512] != (uint8_t)(o * 7 + (o >> 9))) {
      printf("ataerr: mismatch at offset %llu\n", (unsigned long long)o);
      return -1;
    }
  return 0;
}

static void read_and_check(struct ata_dev *a, const char *what) {
  memset(buf, 0, sizeof(buf));
  int rc = ata_read(a, 1, 8, buf);
  CHECK_EQ(rc, 0);
  if (rc == 0 && CHECK(check_pattern(1, 8) == 0)) printf("ataerr: %s read ok\n", what);
}

int main(void) {
  struct ata_dev *a;
  int rc = ata_open(ATA_POLLED, &a);
  if (rc < 0) {
    printf("ataerr: no ATA disk: %d\n", rc);
    test_exit(TEST_FAILURE);
  }
  ata_print_info(a);
  read_and_check(a, "polled");

  struct ata_info *info = (struct ata_info *)ata_get_info(a); /* the test's licence */
  uint64_t real = info->sectors;
  info->sectors = real + 64;
  for (int write = 0; write < 2; write++) {
    rc = write ? ata_write(a, real + 8, 8, buf) : ata_read(a, real + 8, 8, buf);
    uint8_t err = ata_get_stats(a)->last_error;
    char names[48];
    printf("ataerr: %s past the end: %d, error %#x (%s)\n", write ? "write" : "read", rc, err,
           ata_error_string(err, names, sizeof(names)));
    CHECK_EQ(rc, -XEN_EIO);
    CHECK((err & (ATA_ER_ABRT | ATA_ER_IDNF)) != 0);
    CHECK(ata_get_stats(a)->last_status & ATA_SR_ERR);
  }
  info->sectors = real;
  CHECK_EQ(ata_get_stats(a)->errors, 2);
  read_and_check(a, "after the errors");

  CHECK_EQ(ata_set_mode(a, ATA_IRQ), 0);
  uint64_t irqs = ata_get_stats(a)->irqs;
  read_and_check(a, "irq multiple");
  CHECK_EQ(ata_set_multiple(a, 0), 0);
  read_and_check(a, "irq single-sector");
  printf("ataerr: interrupts for the two reads: %llu\n", (unsigned long long)(ata_get_stats(a)->irqs - irqs));
  CHECK_EQ(ata_get_stats(a)->irqs - irqs, 1 + 8); /* one 8-sector block, then 8 one-sector blocks */
  CHECK_EQ(ata_set_mode(a, ATA_POLLED), 0);
  CHECK_EQ(ata_set_multiple(a, 4), 0);
  read_and_check(a, "polled multiple=4");
  CHECK_EQ(ata_flush(a), 0);
  test_done();
}
