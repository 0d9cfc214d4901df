/* udp.c: UDP sockets — bind a port, deliver to a handler or a small queue, sendto, recvfrom. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/deadline.h>
#include <pvkvm/netstack.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>
#include "net_internal.h"

int udp_bind(struct netstack *ns, struct udp_sock *sk, uint16_t port, udp_handler_t fn, void *arg) {
  if (port == 0) return -XEN_EINVAL;
  int free_slot = -1;
  for (int i = 0; i < NETSTACK_MAX_SOCKS; i++) {
    if (ns->socks[i] && ns->socks[i]->port == port) return -XEN_EADDRINUSE;
    if (!ns->socks[i] && free_slot < 0) free_slot = i;
  }
  if (free_slot < 0) return -XEN_ENOBUFS;
  sk->ns = ns;
  sk->port = port;
  sk->on_recv = fn;
  sk->arg = arg;
  sk->head = sk->count = 0;
  sk->received = sk->dropped = 0;
  ns->socks[free_slot] = sk;
  return 0;
}

void udp_unbind(struct udp_sock *sk) {
  for (int i = 0; i < NETSTACK_MAX_SOCKS; i++)
    if (sk->ns->socks[i] == sk) sk->ns->socks[i] = NULL;
}

void ns_udp_input(struct netstack *ns, const struct ipv4_view *ip) {
  struct udp_view u;
  int rc = udp_parse(ip->payload, ip->len, ip->src, ip->dst, &u);
  if (rc != NET_OK) {
    if (rc == NET_E_CSUM) ns->stats.rx_bad_csum++;
    else if (rc == NET_E_SHORT) ns->stats.rx_short++;
    else ns->stats.rx_bad_header++;
    return;
  }
  struct udp_sock *sk = NULL;
  for (int i = 0; i < NETSTACK_MAX_SOCKS && !sk; i++)
    if (ns->socks[i] && ns->socks[i]->port == u.dport) sk = ns->socks[i];
  if (!sk) {
    ns->stats.udp_no_port++;
    return;
  }
  sk->received++;
  ns->stats.udp_delivered++;
  if (sk->on_recv) {
    sk->on_recv(sk, ip->src, u.sport, u.data, u.len);
    return;
  }
  if (sk->count == NETSTACK_UDP_QLEN || u.len > NETSTACK_UDP_MAX) {
    sk->dropped++;
    ns->stats.udp_queue_full++;
    return;
  }
  struct udp_dgram *g = &sk->q[(sk->head + sk->count) % NETSTACK_UDP_QLEN];
  g->src_ip = ip->src;
  g->src_port = u.sport;
  g->len = (uint16_t)u.len;
  memcpy(g->data, u.data, u.len);
  sk->count++;
}

int udp_sendto(struct udp_sock *sk, uint32_t dst, uint16_t dport, const void *data, size_t len, unsigned flags) {
  struct netstack *ns = sk->ns;
  if (len > NETSTACK_UDP_MAX) return -XEN_EMSGSIZE;
  /* Resolve first: resolving may poll, and input uses ns->tx for its replies. */
  uint8_t mac[6];
  int rc = netstack_resolve(ns, dst, mac, 2 * NSEC_PER_SEC);
  if (rc < 0) return rc;
  udp_build(ns->tx + NS_L4_OFF, ns->ip, dst, sk->port, dport, data, len);
  return netstack_send_ip(ns, dst, IP_PROTO_UDP, UDP_HLEN + len, flags);
}

int udp_recvfrom(struct udp_sock *sk, void *buf, size_t len, uint32_t *src_ip, uint16_t *src_port, uint64_t timeout_ns) {
  uint64_t deadline = deadline_after(timeout_ns);
  while (sk->count == 0) {
    uint64_t now = pvkvm_time_ns();
    if (now >= deadline) return -XEN_ETIMEDOUT;
    int rc = netstack_poll(sk->ns, deadline - now);
    if (rc < 0) return rc;
  }
  struct udp_dgram *g = &sk->q[sk->head];
  size_t n = g->len < len ? g->len : len;
  memcpy(buf, g->data, n);
  if (src_ip) *src_ip = g->src_ip;
  if (src_port) *src_port = g->src_port;
  sk->head = (sk->head + 1) % NETSTACK_UDP_QLEN;
  sk->count--;
  return (int)n;
}
