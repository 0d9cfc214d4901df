/* block_drivers.c: the disk drivers behind <pvkvm/block.h>, in order of preference — the PV disk
 * when Xen offers one, else the emulated ATA disk (the fallback, last). */
#include <pvkvm/ata.h>
#include <pvkvm/block.h>
#include <pvkvm/blkfront.h>

const struct block_driver *const block_drivers[] = {&blkfront_block_driver, &ata_block_driver};
const unsigned block_nr_drivers = sizeof(block_drivers) / sizeof(block_drivers[0]);
