/* block_driver.c: blkfront in the block API's driver table ("pv"): the disks are the entries
 * under device/vbd, by ascending id. */
#include <pvkvm/block.h>
#include <pvkvm/blkfront.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/xenstore.h>

/* PV disks (entries under device/vbd), or -errno when there is no Xen or no xenstore. */
static int pv_probe(void) {
  if (!pvkvm_xen_present()) return -XEN_ENODEV;
  int rc = xs_init();
  if (rc < 0) return rc;
  return blkfront_list(NULL, 0);
}

static int pv_open(unsigned index, struct block_dev **dev) {
  struct blkfront_dev *bf;
  int rc = blkfront_open(index, &bf);
  if (rc < 0) return rc;
  *dev = blkfront_block(bf);
  return 0;
}

const struct block_driver blkfront_block_driver = {
    .name = "pv", .probe = pv_probe, .open = pv_open, .wait_present = blkfront_wait_vbd};
