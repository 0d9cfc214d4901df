/* net.c: the driver-neutral NIC API (<pvkvm/net.h>): choosing a driver; the data path is inline
 * in the header, straight to the driver's ops. */
#include <pvkvm/console.h>
#include <pvkvm/net.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>

/* net=NAME picks by name; else the first driver that counts a NIC; else the first (the PV NIC):
 * only it can gain a NIC later (a vif hot-plugged through xenbus), which net_wait_present waits for. */
static const struct net_driver *choose_driver(void) {
  char want[16];
  if (pvkvm_cmdline_get("net", want, sizeof(want)) >= 0) {
    for (unsigned i = 0; i < net_nr_drivers; i++)
      if (strcmp(want, net_drivers[i]->name) == 0) return net_drivers[i];
    printf("net: no driver named \"%s\"; choosing by probe\n", want);
  }
  for (unsigned i = 0; i < net_nr_drivers; i++)
    if (net_drivers[i]->probe && net_drivers[i]->probe() > 0) return net_drivers[i];
  return net_drivers[0];
}

int net_count(void) {
  const struct net_driver *drv = choose_driver();
  return drv->probe ? drv->probe() : -XEN_ENODEV;
}

int net_open(unsigned index, struct net_dev **dev) { return choose_driver()->open(index, dev); }

int net_wait_present(unsigned index, uint64_t timeout_ns) {
  const struct net_driver *drv = choose_driver();
  if (drv->wait_present) return drv->wait_present(index, timeout_ns);
  int n = drv->probe ? drv->probe() : -XEN_ENODEV;
  return n < 0 ? n : (unsigned)n > index ? 0 : -XEN_ENODEV;
}

int net_close(struct net_dev *dev) { return dev->ops->close ? dev->ops->close(dev) : 0; }
