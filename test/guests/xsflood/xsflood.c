/*
 * xsflood: a guest that abuses its xenstore ring, for dom0's bounds (test/xenstore-flood.test.ts).
 *   mode=noread (default): writes a 2 KiB node, sets watches=N watches (default 0) on data/w, then
 *     writes READ requests for the big node into the req ring as fast as there is space and never
 *     consumes a reply; reports when dom0 stops taking requests (back-pressure), then stays stuck.
 *   mode=garbage: a request header announcing more than XENSTORE_PAYLOAD_MAX bytes, then random
 *     bytes; reports the ring error dom0 flags, then stays stuck.
 * Prints "xsflood: stuck" once it has done its damage; only destroying it ends it.
 */
#include <pvkvm/pvkvm.h>

#define RING XENSTORE_RING_SIZE

static struct xenstore_domain_interface *intf;
static evtchn_port_t port;

/* Append bytes to the req ring if there is room for all of them (the indices are ours to move). */
static int put(const void *data, uint32_t n) {
  uint32_t prod = intf->req_prod, cons = __atomic_load_n(&intf->req_cons, __ATOMIC_ACQUIRE);
  if (RING - (prod - cons) < n) return 0;
  for (uint32_t i = 0; i < n; i++) intf->req[(prod + i) & (RING - 1)] = ((const uint8_t *)data)[i];
  __atomic_store_n(&intf->req_prod, prod + n, __ATOMIC_RELEASE);
  return 1;
}

static __attribute__((noreturn)) void stuck(void) {
  printf("xsflood: stuck\n");
  for (;;) HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

static void flood_noread(unsigned watches) {
  static char big[2048];
  memset(big, 'x', sizeof(big) - 1);
  CHECK_EQ(xs_write(XBT_NIL, "data/big", big), 0);
  char token[16];
  for (unsigned i = 0; i < watches; i++) {
    snprintf(token, sizeof(token), "t%u", i);
    if (xs_watch("data/w", token) != 0) { printf("xsflood: watch %u refused\n", i); break; }
  }
  printf("xsflood: flooding with %u watches\n", watches);
  static const char path[] = "data/big";
  struct xsd_sockmsg h = {.type = XS_READ, .req_id = 0, .tx_id = 0, .len = sizeof(path)};
  uint64_t sent = 0, last_progress = pvkvm_time_ns();
  uint32_t last_cons = intf->req_cons;
  for (;;) {
    h.req_id = (uint32_t)sent;
    uint8_t msg[sizeof(h) + sizeof(path)];
    memcpy(msg, &h, sizeof(h));
    memcpy(msg + sizeof(h), path, sizeof(path));
    if (put(msg, sizeof(msg))) {
      sent++;
      evtchn_send(port);
      continue;
    }
    evtchn_send(port);
    uint32_t cons = __atomic_load_n(&intf->req_cons, __ATOMIC_ACQUIRE);
    if (cons != last_cons) { last_cons = cons; last_progress = pvkvm_time_ns(); }
    /* dom0 stopped taking requests for 3 s: it is waiting for us to read what it sent */
    if (pvkvm_time_ns() - last_progress > 3000000000ull) break;
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
  }
  printf("xsflood: back-pressure after %llu requests, rsp ring %u bytes unread\n", (unsigned long long)sent,
         intf->rsp_prod - intf->rsp_cons);
}

static void flood_garbage(void) {
  struct xsd_sockmsg h = {.type = XS_WRITE, .req_id = 1, .tx_id = 0, .len = XENSTORE_PAYLOAD_MAX + 1};
  CHECK(put(&h, sizeof(h)));
  uint8_t junk[256];
  for (unsigned i = 0; i < sizeof(junk); i++) junk[i] = (uint8_t)(i * 37);
  put(junk, sizeof(junk));
  evtchn_send(port);
  uint64_t deadline = pvkvm_time_ns() + 60000000000ull;
  while (!__atomic_load_n(&intf->error, __ATOMIC_ACQUIRE) && pvkvm_time_ns() < deadline) HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
  printf("xsflood: ring error %u\n", intf->error);
}

int main(void) {
  REQUIRE_XEN();
  REQUIRE(xs_init() == 0);
  uint64_t pfn = 0;
  CHECK_EQ(pvkvm_hvm_get_param(HVM_PARAM_STORE_PFN, &pfn), 0);
  intf = (struct xenstore_domain_interface *)(uintptr_t)(pfn << 12);
  port = xs_port();
  char mode[16] = "noread";
  pvkvm_cmdline_get("mode", mode, sizeof(mode));
  if (strcmp(mode, "garbage") == 0) flood_garbage();
  else flood_noread((unsigned)pvkvm_cmdline_ull("watches", 0));
  stuck();
}
