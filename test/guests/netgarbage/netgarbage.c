/*
 * netgarbage: a hostile PV network frontend, for netback's safety tests. It needs three vifs. It
 * does netfront's handshake itself (rings, grants, one event channel, the xenstore keys), then
 * writes requests straight into the shared rings, as garbage, instead of using netfront:
 *
 *   vif 0, RX: buffers whose grant refs were never made. A broadcast sent on vif 1 is flooded to
 *              vif 0 by the switch; each buffer it lands in must be answered NETIF_RSP_ERROR.
 *   vif 0, TX: a good frame (OKAY), then, each to be answered ERROR on every slot: size 0; size
 *              1600 (> MTU + 14); offset 4000 + 200 bytes (crossing the page); a grant ref far
 *              beyond the table and one never granted; a chain whose second slot carries more
 *              than the first slot's total; a GSO extra-info segment (GSO not negotiated; its
 *              extra slot answered NETIF_RSP_NULL); then a frame from a spoofed source MAC (DROPPED), and
 *              a good frame again (OKAY: the vif still works), 300 good broadcasts (vif 1 posts
 *              no RX buffer: netback may queue a bounded number, and counts the rest as
 *              rxDropped). Last, a chain of 20 slots
 *              (more_data on 19 > XEN_NETIF_NR_SLOTS_MIN): the backend must disconnect vif 0
 *              (state Closing or Closed).
 *   vif 1, TX: a good broadcast (OKAY), then req_prod = req_prod_pvt + 1000 and a notification:
 *              the backend must disconnect vif 1.
 *   vif 2, RX: req_prod = req_prod_pvt + 1000 on the RX ring and a notification: the backend
 *              must disconnect vif 2.
 * Each request prints "netgarbage: vifN WHAT: status S" (S: 0 OKAY, -1 ERROR, -2 DROPPED) and
 * each disconnection "netgarbage: vifN WHAT: backend went STATE". Then "netgarbage: done", a
 * pause of hold_ms (default 0: the test reads netback's counters meanwhile), its side closed,
 * exactly one "Test result: SUCCESS|FAILURE" (SUCCESS when the backend behaved) and poweroff.
 * Options: timeout_ms=T per expected answer (default 10000), hold_ms=H.
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/deadline.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/grant.h>
#include <pvkvm/page_arena.h>
#include <pvkvm/xenbus.h>
#include <pvkvm/xenstore.h>
#include <xen-abi/io/netif.h>

#define PAGE 4096u
#define CLOSED_BITS (XENBUS_STATE_BIT(XenbusStateClosing) | XENBUS_STATE_BIT(XenbusStateClosed))

struct raw_vif {
  unsigned devid;
  char fe[48], be[128];
  domid_t backend_id;
  uint8_t mac[6];
  struct netif_tx_front_ring tx;
  struct netif_rx_front_ring rx;
  evtchn_port_t port;
  uint8_t *data;        /* one page, granted read-only: every TX slot points into it */
  grant_ref_t data_ref;
  uint16_t next_id;
};

static struct raw_vif vifs[3];
static uint64_t timeout_ns;

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static int write_key(const char *dir, const char *key, unsigned v) {
  char path[128];
  snprintf(path, sizeof(path), "%s/%s", dir, key);
  return xenbus_printf(XBT_NIL, path, "%u", v);
}

/* netfront's handshake, by hand; no RX buffer is posted. */
static void raw_open(struct raw_vif *v, unsigned devid) {
  char path[192], s[32];
  v->devid = devid;
  xenbus_device_path("vif", devid, v->fe, sizeof(v->fe));
  REQUIRE(xenbus_read_backend(v->fe, v->be, sizeof(v->be), &v->backend_id) == 0);
  snprintf(path, sizeof(path), "%s/mac", v->fe);
  REQUIRE(xs_read(XBT_NIL, path, s, sizeof(s) - 1) == 17);
  for (int i = 0; i < 6; i++) v->mac[i] = (uint8_t)(hexval(s[3 * i]) << 4 | hexval(s[3 * i + 1]));
  REQUIRE(xenbus_wait_state(v->be, XENBUS_STATE_BIT(XenbusStateInitWait), timeout_ns) == XenbusStateInitWait);
  uint8_t (*pages)[PAGE] = page_arena_alloc(3 * PAGE);
  REQUIRE(pages != NULL);
  memset(pages, 0, 3 * PAGE);
  struct netif_tx_sring *txs = (struct netif_tx_sring *)pages[0];
  struct netif_rx_sring *rxs = (struct netif_rx_sring *)pages[1];
  SHARED_RING_INIT(txs);
  SHARED_RING_INIT(rxs);
  FRONT_RING_INIT(&v->tx, txs, PAGE);
  FRONT_RING_INIT(&v->rx, rxs, PAGE);
  v->data = pages[2];
  long tx_ref = gnttab_grant_access(v->backend_id, (uintptr_t)txs >> 12, 0);
  long rx_ref = gnttab_grant_access(v->backend_id, (uintptr_t)rxs >> 12, 0);
  long d_ref = gnttab_grant_access(v->backend_id, (uintptr_t)v->data >> 12, 1);
  REQUIRE(tx_ref >= 0 && rx_ref >= 0 && d_ref >= 0);
  v->data_ref = (grant_ref_t)d_ref;
  REQUIRE(evtchn_alloc_unbound(v->backend_id, &v->port) == 0);
  evtchn_mask(v->port);
  REQUIRE(write_key(v->fe, NETIF_XS_TX_RING_REF, (unsigned)tx_ref) == 0);
  REQUIRE(write_key(v->fe, NETIF_XS_RX_RING_REF, (unsigned)rx_ref) == 0);
  REQUIRE(write_key(v->fe, NETIF_XS_EVENT_CHANNEL, v->port) == 0);
  REQUIRE(write_key(v->fe, NETIF_XS_REQUEST_RX_COPY, 1) == 0);
  REQUIRE(write_key(v->fe, NETIF_XS_FEATURE_SG, 1) == 0);
  REQUIRE(write_key(v->fe, NETIF_XS_FEATURE_RX_NOTIFY_BACK, 1) == 0);
  REQUIRE(xenbus_switch_state(v->fe, XenbusStateConnected) == 0);
  int st = xenbus_wait_state(v->be, XENBUS_STATE_BIT(XenbusStateConnected) | CLOSED_BITS, timeout_ns);
  printf("netgarbage: vif%u connected: backend %s\n", devid, st >= 0 ? xenbus_state_name(st) : "?");
  REQUIRE(st == XenbusStateConnected);
}

/* A frame in the data page at `off`: dst broadcast, src `src`, an experimental ethertype. */
static void frame_at(struct raw_vif *v, unsigned off, const uint8_t src[6], unsigned len) {
  uint8_t *f = v->data + off;
  memset(f, 0xff, 6);
  memcpy(f + 6, src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  for (unsigned i = 14; i < len; i++) f[i] = (uint8_t)i;
}

/* Queue one TX slot (not pushed). */
static void slot(struct raw_vif *v, uint32_t gref, uint16_t offset, uint16_t size, uint16_t flags) {
  struct netif_tx_request *r = RING_GET_REQUEST(&v->tx, v->tx.req_prod_pvt);
  r->gref = gref;
  r->offset = offset;
  r->size = size;
  r->flags = flags;
  r->id = v->next_id++ & 0xff;
  v->tx.req_prod_pvt++;
}

static void push(struct raw_vif *v) {
  RING_PUSH_REQUESTS(&v->tx);
  evtchn_send(v->port);
}

/* Wait for the responses to everything queued; the first slot's status (or -100: none came). */
static int answers(struct raw_vif *v, RING_IDX first) {
  uint64_t deadline = deadline_after(timeout_ns);
  while ((RING_IDX)(XEN_RING_ACQUIRE(v->tx.sring->rsp_prod) - v->tx.rsp_cons) <
         (RING_IDX)(v->tx.req_prod_pvt - v->tx.rsp_cons)) {
    if (pvkvm_time_ns() >= deadline) return -100;
    pvkvm_sleep_ns(NSEC_PER_MSEC);
  }
  int status = -100, ok = 1;
  for (RING_IDX i = v->tx.rsp_cons; i != v->tx.req_prod_pvt; i++) {
    struct netif_tx_response rsp;
    RING_COPY_RESPONSE(&v->tx, i, &rsp);
    if (i == first) status = rsp.status;
    else if (rsp.status != status && rsp.status != NETIF_RSP_NULL) ok = 0;
  }
  v->tx.rsp_cons = v->tx.req_prod_pvt;
  if (!ok) printf("netgarbage: vif%u: the slots of one packet got different answers\n", v->devid);
  return ok ? status : -101;
}

static void expect(struct raw_vif *v, const char *what, int want) {
  RING_IDX first = v->tx.rsp_cons;
  push(v);
  int got = answers(v, first);
  printf("netgarbage: vif%u %s: status %d\n", v->devid, what, got);
  CHECK_EQ(got, want);
}

static void expect_disconnect(struct raw_vif *v, const char *what) {
  int st = xenbus_wait_state(v->be, CLOSED_BITS, timeout_ns);
  printf("netgarbage: vif%u %s: backend went %s\n", v->devid, what, st >= 0 ? xenbus_state_name(st) : "nowhere");
  CHECK(st == XenbusStateClosing || st == XenbusStateClosed);
}

int main(void) {
  REQUIRE_XEN();
  timeout_ns = pvkvm_cmdline_ull("timeout_ms", 10000) * NSEC_PER_MSEC;
  uint64_t hold_ns = pvkvm_cmdline_ull("hold_ms", 0) * NSEC_PER_MSEC;
  REQUIRE(xs_init() == 0);
  REQUIRE(pvkvm_shared_info() != NULL);
  REQUIRE(gnttab_init() >= 0);
  unsigned ids[4];
  REQUIRE(xenbus_list_devices("vif", ids, 4) == 3);
  for (unsigned i = 1; i < 3; i++)
    for (unsigned j = i; j > 0 && ids[j - 1] > ids[j]; j--) { unsigned t = ids[j]; ids[j] = ids[j - 1]; ids[j - 1] = t; }
  struct raw_vif *v0 = &vifs[0], *v1 = &vifs[1], *v2 = &vifs[2];
  raw_open(v0, ids[0]);
  raw_open(v1, ids[1]);
  raw_open(v2, ids[2]);

  /* vif 0, RX: 8 buffers with grants never made (one far beyond the table). */
  for (unsigned i = 0; i < 8; i++) {
    struct netif_rx_request *r = RING_GET_REQUEST(&v0->rx, v0->rx.req_prod_pvt);
    r->id = (uint16_t)i;
    r->gref = i == 0 ? 0xfffffffu : v0->data_ref + 500 + i;
    v0->rx.req_prod_pvt++;
  }
  RING_PUSH_REQUESTS(&v0->rx);
  evtchn_send(v0->port);
  /* vif 1, TX: a good broadcast, flooded to vif 0's bad buffers. */
  frame_at(v1, 0, v1->mac, 60);
  slot(v1, v1->data_ref, 0, 60, 0);
  expect(v1, "good broadcast", NETIF_RSP_OKAY);
  uint64_t deadline = deadline_after(timeout_ns);
  while (XEN_RING_ACQUIRE(v0->rx.sring->rsp_prod) == v0->rx.rsp_cons && pvkvm_time_ns() < deadline)
    pvkvm_sleep_ns(NSEC_PER_MSEC);
  int rx_status = -100;
  if (XEN_RING_ACQUIRE(v0->rx.sring->rsp_prod) != v0->rx.rsp_cons) {
    struct netif_rx_response rsp;
    RING_COPY_RESPONSE(&v0->rx, v0->rx.rsp_cons, &rsp);
    rx_status = rsp.status;
  }
  printf("netgarbage: vif0 rx into a bad grant: status %d\n", rx_status);
  CHECK_EQ(rx_status, NETIF_RSP_ERROR);

  /* vif 0, TX: one bad field at a time. */
  frame_at(v0, 0, v0->mac, 60);
  slot(v0, v0->data_ref, 0, 60, 0);
  expect(v0, "good frame", NETIF_RSP_OKAY);
  slot(v0, v0->data_ref, 0, 0, 0);
  expect(v0, "size 0", NETIF_RSP_ERROR);
  frame_at(v0, 0, v0->mac, 1600);
  slot(v0, v0->data_ref, 0, 1600, 0);
  expect(v0, "size 1600", NETIF_RSP_ERROR);
  frame_at(v0, 4000, v0->mac, 96);
  slot(v0, v0->data_ref, 4000, 200, 0);
  expect(v0, "offset 4000 size 200 (crosses the page)", NETIF_RSP_ERROR);
  slot(v0, 0xfffffffu, 0, 60, 0);
  expect(v0, "grant ref 0xfffffff", NETIF_RSP_ERROR);
  slot(v0, v0->data_ref + 700, 0, 60, 0);
  expect(v0, "grant ref never granted", NETIF_RSP_ERROR);
  frame_at(v0, 0, v0->mac, 60);
  slot(v0, v0->data_ref, 0, 60, NETTXF_more_data);
  slot(v0, v0->data_ref, 0, 100, 0);
  expect(v0, "chain longer than its first slot says", NETIF_RSP_ERROR);
  /* A GSO extra-info segment, GSO never negotiated: ERROR, and NETIF_RSP_NULL for the extra. */
  frame_at(v0, 0, v0->mac, 60);
  slot(v0, v0->data_ref, 0, 60, NETTXF_extra_info | NETTXF_csum_blank);
  struct netif_extra_info *x = (struct netif_extra_info *)RING_GET_REQUEST(&v0->tx, v0->tx.req_prod_pvt);
  memset(x, 0, sizeof(struct netif_tx_request));
  x->type = XEN_NETIF_EXTRA_TYPE_GSO;
  x->u_gso_size = 1400;
  x->u_gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
  v0->tx.req_prod_pvt++;
  expect(v0, "GSO extra info (not negotiated)", NETIF_RSP_ERROR);
  static const uint8_t spoof[6] = {0x00, 0x16, 0x3e, 0x66, 0x66, 0x66};
  frame_at(v0, 0, spoof, 60);
  slot(v0, v0->data_ref, 0, 60, 0);
  expect(v0, "spoofed source MAC", NETIF_RSP_DROPPED);
  frame_at(v0, 0, v0->mac, 60);
  slot(v0, v0->data_ref, 0, 60, 0);
  expect(v0, "good frame after the garbage", NETIF_RSP_OKAY);
  /* 300 broadcasts: flooded to vif 1 too, which never posts an RX buffer. */
  for (unsigned b = 0; b < 3; b++) {
    for (unsigned i = 0; i < 100; i++) slot(v0, v0->data_ref, 0, 60, 0);
    expect(v0, b == 0 ? "100 broadcasts (1)" : b == 1 ? "100 broadcasts (2)" : "100 broadcasts (3)", NETIF_RSP_OKAY);
  }
  /* 20 slots of one packet: fatal. */
  frame_at(v0, 0, v0->mac, 64);
  for (unsigned i = 0; i < 20; i++) slot(v0, v0->data_ref, 0, i == 0 ? 20 * 64 : 64, i < 19 ? NETTXF_more_data : 0);
  push(v0);
  expect_disconnect(v0, "a chain of 20 slots");

  /* vif 1: the producer index runs far ahead of the ring. */
  v1->tx.sring->req_prod = v1->tx.req_prod_pvt + 1000;
  evtchn_send(v1->port);
  expect_disconnect(v1, "req_prod 1000 ahead");

  /* vif 2: the RX ring's producer index runs far ahead. */
  v2->rx.sring->req_prod = v2->rx.req_prod_pvt + 1000;
  evtchn_send(v2->port);
  expect_disconnect(v2, "rx req_prod 1000 ahead");

  printf("netgarbage: done\n");
  if (hold_ns) pvkvm_sleep_ns(hold_ns);
  for (unsigned i = 0; i < 3; i++) xenbus_switch_state(vifs[i].fe, XenbusStateClosed);
  test_done();
}
