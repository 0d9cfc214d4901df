/* responder.c: mode=responder — the stack answers ARP and pings by itself; this adds a UDP echo
 * server (the handler sends each datagram back from inside the RX path: replies are pushed once
 * per poll batch). */
#include "network.h"

static uint64_t echoed;

static void echo(struct udp_sock *sk, uint32_t src, uint16_t sport, const uint8_t *d, size_t len) {
  /* The datagram lives in ns->rx; udp_sendto builds into ns->tx, so no copy is needed. */
  if (udp_sendto(sk, src, sport, d, len, NET_SEND_MORE) == 0) echoed++;
}

enum pvkvm_test_result net_mode_responder(struct netstack *ns) {
  static struct udp_sock sk;
  uint16_t port = (uint16_t)pvkvm_cmdline_ull("port", NETWORK_DEFAULT_PORT);
  uint64_t duration = pvkvm_cmdline_ull("duration", 0) * NSEC_PER_SEC;
  if (udp_bind(ns, &sk, port, echo, NULL) < 0) return TEST_ERROR;
  printf("net: responder on port %u%s\n", port, duration ? "" : " (forever)");
  uint64_t deadline = duration ? deadline_after(duration) : PVKVM_FOREVER;
  for (;;) {
    uint64_t now = pvkvm_time_ns();
    if (now >= deadline) break;
    uint64_t left = deadline - now;
    int rc = netstack_poll(ns, left < NSEC_PER_SEC ? left : NSEC_PER_SEC);
    if (rc < 0) {
      printf("net: responder: NIC failed: %d\n", rc);
      break;
    }
  }
  printf("net: responder echoed=%llu pings=%llu\n", (unsigned long long)echoed,
         (unsigned long long)ns->stats.icmp_echo_answered);
  return TEST_SUCCESS;
}
