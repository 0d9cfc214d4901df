/* stack.c: the stack's core — set-up, frame input and dispatch, ARP (cache, requests, replies),
 * sending IP packets, and the poll loop that drives it all. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/deadline.h>
#include <pvkvm/netstack.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>
#include "net_internal.h"

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ZERO_MAC[6] = {0};

int netstack_init(struct netstack *ns, struct net_dev *dev, uint32_t ip, unsigned prefix, uint32_t gw) {
  if (prefix > 32) return -XEN_EINVAL;
  memset(ns, 0, sizeof(*ns));
  ns->dev = dev;
  memcpy(ns->mac, dev->mac, 6);
  ns->ip = ip;
  ns->mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
  ns->gw = gw;
  ns->answer_ping = 1;
  ns->ip_id = (uint16_t)(ip * 2654435761u >> 16); /* differs per host, so ids from two guests differ */
  return 0;
}

int ns_is_broadcast(const struct netstack *ns, uint32_t ip) {
  return ip == 0xffffffffu || (ns->mask != 0xffffffffu && ip == ((ns->ip & ns->mask) | ~ns->mask));
}

int ns_xmit(struct netstack *ns, size_t len, unsigned flags) {
  int rc = net_send_flags(ns->dev, ns->tx, len, flags);
  if (rc == -XEN_EAGAIN) rc = net_send(ns->dev, ns->tx, len); /* ring full: wait for room, push */
  if (rc < 0) ns->stats.tx_errors++;
  else ns->stats.tx_frames++;
  return rc;
}

/* ---- ARP ---- */

static struct arp_entry *arp_find(struct netstack *ns, uint32_t ip) {
  uint64_t now = pvkvm_time_ns();
  for (unsigned i = 0; i < NETSTACK_ARP_ENTRIES; i++) {
    struct arp_entry *e = &ns->arp[i];
    if (e->valid && e->ip == ip) {
      if (now < e->expires) return e;
      e->valid = 0; /* stale: ask again */
    }
  }
  return NULL;
}

/* Remember ip → mac (updating an entry, else taking a free or the oldest-placed one). */
static void arp_learn(struct netstack *ns, uint32_t ip, const uint8_t mac[6]) {
  if (ip == 0 || ns_is_broadcast(ns, ip) || (mac[0] & 1)) return; /* no multicast/broadcast owners */
  struct arp_entry *e = NULL;
  for (unsigned i = 0; i < NETSTACK_ARP_ENTRIES && !e; i++)
    if (ns->arp[i].valid && ns->arp[i].ip == ip) e = &ns->arp[i];
  for (unsigned i = 0; i < NETSTACK_ARP_ENTRIES && !e; i++)
    if (!ns->arp[i].valid) e = &ns->arp[i];
  if (!e) {
    e = &ns->arp[ns->arp_next];
    ns->arp_next = (ns->arp_next + 1) % NETSTACK_ARP_ENTRIES;
  }
  e->ip = ip;
  memcpy(e->mac, mac, 6);
  e->valid = 1;
  e->expires = pvkvm_time_ns() + NETSTACK_ARP_TTL_NS;
}

void netstack_arp_flush(struct netstack *ns) { memset(ns->arp, 0, sizeof(ns->arp)); }

static int arp_send(struct netstack *ns, uint16_t op, const uint8_t dst_mac[6], const uint8_t tha[6], uint32_t tpa,
                    unsigned flags) {
  size_t n = eth_build(ns->tx, dst_mac, ns->mac, ETH_TYPE_ARP);
  n += arp_build(ns->tx + n, op, ns->mac, ns->ip, tha, tpa);
  while (n < 60) ns->tx[n++] = 0; /* Ethernet's minimum frame */
  return ns_xmit(ns, n, flags);
}

static void arp_input(struct netstack *ns, const struct eth_view *eth) {
  struct arp_view a;
  int rc = arp_parse(eth->payload, eth->len, &a);
  if (rc != NET_OK) {
    if (rc == NET_E_SHORT) ns->stats.rx_short++;
    else ns->stats.rx_unsupported++;
    return;
  }
  /* RFC 826: refresh a known sender; learn a new one only when the packet is for us. */
  int known = 0;
  for (unsigned i = 0; i < NETSTACK_ARP_ENTRIES; i++)
    if (ns->arp[i].valid && ns->arp[i].ip == a.spa) known = 1;
  if (a.tpa != ns->ip) {
    if (known) arp_learn(ns, a.spa, a.sha);
    ns->stats.rx_not_ours++;
    return;
  }
  arp_learn(ns, a.spa, a.sha);
  if (a.op == ARP_OP_REQUEST) {
    ns->stats.arp_requests_answered++;
    arp_send(ns, ARP_OP_REPLY, a.sha, a.sha, a.spa, NET_SEND_MORE);
  } else {
    ns->stats.arp_replies_learned++;
  }
}

int netstack_resolve(struct netstack *ns, uint32_t ip, uint8_t mac[6], uint64_t timeout_ns) {
  if (ns_is_broadcast(ns, ip)) {
    memcpy(mac, BCAST, 6);
    return 0;
  }
  uint32_t hop = (ip & ns->mask) == (ns->ip & ns->mask) ? ip : ns->gw;
  if (hop == 0) return -XEN_EINVAL; /* off-subnet without a gateway */
  uint64_t deadline = deadline_after(timeout_ns);
  for (;;) {
    struct arp_entry *e = arp_find(ns, hop);
    if (e) {
      memcpy(mac, e->mac, 6);
      return 0;
    }
    ns->stats.arp_requests_sent++;
    int rc = arp_send(ns, ARP_OP_REQUEST, BCAST, ZERO_MAC, hop, 0);
    if (rc < 0) return rc;
    if (ns->in_input) return -XEN_EAGAIN; /* asked; the caller drops this packet */
    uint64_t retry = deadline_after(NETSTACK_ARP_RETRY_NS);
    for (;;) {
      uint64_t now = pvkvm_time_ns();
      if (arp_find(ns, hop)) break;
      if (now >= deadline) return -XEN_ETIMEDOUT;
      if (now >= retry) break;
      uint64_t until = retry < deadline ? retry : deadline;
      rc = netstack_poll(ns, until - now);
      if (rc < 0) return rc;
    }
  }
}

int netstack_send_ip(struct netstack *ns, uint32_t dst, uint8_t proto, size_t payload_len, unsigned flags) {
  if (NS_L4_OFF + payload_len > NETSTACK_FRAME_MAX) return -XEN_EMSGSIZE;
  uint8_t mac[6];
  int rc = netstack_resolve(ns, dst, mac, 2 * NSEC_PER_SEC);
  if (rc < 0) return rc;
  eth_build(ns->tx, mac, ns->mac, ETH_TYPE_IPV4);
  ipv4_build(ns->tx + NS_IP_OFF, proto, ns->ip, dst, ns->ip_id++, NS_TTL, payload_len);
  size_t n = NS_L4_OFF + payload_len;
  while (n < 60) ns->tx[n++] = 0;
  return ns_xmit(ns, n, flags);
}

/* ---- input ---- */

static int count_drop(struct netstack *ns, int rc) {
  switch (rc) {
  case NET_E_SHORT: ns->stats.rx_short++; break;
  case NET_E_BADHDR: ns->stats.rx_bad_header++; break;
  case NET_E_CSUM: ns->stats.rx_bad_csum++; break;
  case NET_E_FRAG: ns->stats.rx_fragments++; break;
  case NET_E_UNSUPP: ns->stats.rx_unsupported++; break;
  default: break;
  }
  return rc;
}

int netstack_input(struct netstack *ns, const uint8_t *frame, size_t len) {
  ns->stats.rx_frames++;
  struct eth_view eth;
  int rc = eth_parse(frame, len, &eth);
  if (rc != NET_OK) return count_drop(ns, rc);
  if (memcmp(eth.dst, ns->mac, 6) != 0 && memcmp(eth.dst, BCAST, 6) != 0) {
    ns->stats.rx_not_ours++;
    return NET_OK;
  }
  ns->in_input = 1;
  if (eth.type == ETH_TYPE_ARP) {
    arp_input(ns, &eth);
  } else if (eth.type == ETH_TYPE_IPV4) {
    struct ipv4_view ip;
    rc = ipv4_parse(eth.payload, eth.len, &ip);
    if (rc != NET_OK) {
      count_drop(ns, rc);
    } else if (ip.dst != ns->ip && !ns_is_broadcast(ns, ip.dst)) {
      ns->stats.rx_not_ours++;
    } else if (ip.proto == IP_PROTO_ICMP) {
      ns_icmp_input(ns, &ip);
    } else if (ip.proto == IP_PROTO_UDP) {
      ns_udp_input(ns, &ip);
    } else {
      ns->stats.rx_unsupported++;
    }
  } else {
    ns->stats.rx_unsupported++;
  }
  ns->in_input = 0;
  return rc;
}

int netstack_poll(struct netstack *ns, uint64_t timeout_ns) {
  int n = 0;
  while (n < NETSTACK_POLL_BUDGET) {
    int len = net_recv(ns->dev, ns->rx, sizeof(ns->rx));
    if (len < 0) return len;
    if (len == 0) {
      if (n > 0 || timeout_ns == 0) break;
      int rc = net_wait(ns->dev, NET_WAIT_RX, timeout_ns);
      if (rc == -XEN_ETIMEDOUT) break;
      if (rc < 0) return rc;
      timeout_ns = 0; /* one wait per call: the caller keeps its own deadline */
      continue;
    }
    netstack_input(ns, ns->rx, (size_t)len);
    n++;
  }
  net_flush(ns->dev); /* the replies queued while processing, one push */
  return n;
}
