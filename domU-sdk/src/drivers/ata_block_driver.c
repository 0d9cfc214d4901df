/* ata_block_driver.c: the emulated ATA disk in the block API's driver table ("ata"): drive 0 of
 * the primary channel, polled or on IRQ 14 as cmdline ata.mode=irq|polled says (default polled). */
#include <pvkvm/ata.h>
#include <pvkvm/block.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>

static enum ata_mode ata_mode_from_cmdline(void) {
  char m[8];
  return pvkvm_cmdline_get("ata.mode", m, sizeof(m)) >= 0 && strcmp(m, "irq") == 0 ? ATA_IRQ : ATA_POLLED;
}

static int ata_open_block(unsigned index, struct block_dev **dev) {
  if (index != 0) return -XEN_ENODEV; /* drive 0 of the primary channel only */
  struct ata_dev *a;
  int rc = ata_open(ata_mode_from_cmdline(), &a);
  if (rc < 0) return rc;
  *dev = ata_block(a);
  return 0;
}

/* No probe: only opening the drive (reset, IDENTIFY) tells whether it is there. */
const struct block_driver ata_block_driver = {.name = "ata", .probe = NULL, .open = ata_open_block};
