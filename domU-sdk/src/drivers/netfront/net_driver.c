/* net_driver.c: netfront in the net API's driver table ("pv"): the NICs are the entries under
 * device/vif, by ascending id. */
#include <pvkvm/hypercall.h>
#include <pvkvm/net.h>
#include <pvkvm/netfront.h>
#include <pvkvm/xenstore.h>

/* PV NICs (entries under device/vif), or -errno when there is no Xen or no xenstore. */
static int pv_probe(void) {
  if (!pvkvm_xen_present()) return -XEN_ENODEV;
  int rc = xs_init();
  if (rc < 0) return rc;
  return netfront_list(NULL, 0);
}

static int pv_open(unsigned index, struct net_dev **dev) {
  struct netfront_dev *nf;
  int rc = netfront_open(index, &nf);
  if (rc < 0) return rc;
  *dev = netfront_net(nf);
  return 0;
}

const struct net_driver netfront_net_driver = {
    .name = "pv", .probe = pv_probe, .open = pv_open, .wait_present = netfront_wait_vif};
