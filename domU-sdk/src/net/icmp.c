/* icmp.c: ICMP echo — answering pings, and sending one and timing its reply (pvclock, i.e. the
 * TSC scaled by the hypervisor's pvclock parameters). */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/deadline.h>
#include <pvkvm/netstack.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>
#include "net_internal.h"

void ns_icmp_input(struct netstack *ns, const struct ipv4_view *ip) {
  struct icmp_view ic;
  int rc = icmp_parse(ip->payload, ip->len, &ic);
  if (rc != NET_OK) {
    if (rc == NET_E_CSUM) ns->stats.rx_bad_csum++;
    else ns->stats.rx_short++;
    return;
  }
  if (ic.type == ICMP_ECHO_REQUEST && ic.code == 0 && ns->answer_ping && ip->dst == ns->ip) {
    if (NS_L4_OFF + ICMP_HLEN + ic.len > NETSTACK_FRAME_MAX) return;
    /* ns->tx is free here: input only runs from netstack_poll, between sends. */
    icmp_echo_build(ns->tx + NS_L4_OFF, ICMP_ECHO_REPLY, ic.id, ic.seq, ic.data, ic.len);
    if (netstack_send_ip(ns, ip->src, IP_PROTO_ICMP, ICMP_HLEN + ic.len, NET_SEND_MORE) == 0)
      ns->stats.icmp_echo_answered++;
  } else if (ic.type == ICMP_ECHO_REPLY) {
    ns->stats.icmp_echo_replies++;
    if (!ns->echo.got && ns->echo.peer == ip->src && ns->echo.id == ic.id && ns->echo.seq == ic.seq) {
      ns->echo.got = 1;
      ns->echo.at_ns = pvkvm_time_ns();
    }
  } else {
    ns->stats.rx_unsupported++;
  }
}

int icmp_ping(struct netstack *ns, uint32_t dst, uint16_t id, uint16_t seq, size_t size, uint64_t timeout_ns,
              uint64_t *rtt_ns) {
  if (NS_L4_OFF + ICMP_HLEN + size > NETSTACK_FRAME_MAX) return -XEN_EMSGSIZE;
  uint64_t deadline = deadline_after(timeout_ns);
  uint8_t mac[6];
  int rc = netstack_resolve(ns, dst, mac, timeout_ns); /* before timing: ARP is not the RTT */
  if (rc < 0) return rc;
  uint8_t *data = ns->tx + NS_L4_OFF + ICMP_HLEN;
  for (size_t i = 0; i < size; i++) data[i] = (uint8_t)(i + seq);
  icmp_echo_build(ns->tx + NS_L4_OFF, ICMP_ECHO_REQUEST, id, seq, NULL, size);
  ns->echo.peer = dst;
  ns->echo.id = id;
  ns->echo.seq = seq;
  ns->echo.got = 0;
  uint64_t t0 = pvkvm_time_ns();
  rc = netstack_send_ip(ns, dst, IP_PROTO_ICMP, ICMP_HLEN + size, 0);
  if (rc < 0) return rc;
  while (!ns->echo.got) {
    uint64_t now = pvkvm_time_ns();
    if (now >= deadline) return -XEN_ETIMEDOUT;
    rc = netstack_poll(ns, deadline - now);
    if (rc < 0) return rc;
  }
  *rtt_ns = ns->echo.at_ns - t0;
  return 0;
}
