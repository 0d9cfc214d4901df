/* net_drivers.c: the NIC drivers behind <pvkvm/net.h>, in order of preference (an emulated NIC
 * goes after the PV one, as ATA does for disks in block_drivers.c). */
#include <pvkvm/net.h>
#include <pvkvm/ne2000.h>
#include <pvkvm/netfront.h>

const struct net_driver *const net_drivers[] = {&netfront_net_driver, &ne2k_net_driver};
const unsigned net_nr_drivers = sizeof(net_drivers) / sizeof(net_drivers[0]);
