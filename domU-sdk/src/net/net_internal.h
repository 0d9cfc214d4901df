/* net_internal.h: what the stack's files share (not SDK API; that is <pvkvm/netstack.h>). */
#ifndef PVKVM_SRC_NET_INTERNAL_H
#define PVKVM_SRC_NET_INTERNAL_H
#include <pvkvm/netstack.h>

#define NS_IP_OFF NET_ETH_HLEN                 /* where the IP header goes in ns->tx */
#define NS_L4_OFF (NET_ETH_HLEN + IPV4_HLEN)   /* where the payload of IP goes */
#define NS_TTL 64

/* Send ns->tx[0..len) (a complete frame), waiting for room if the ring is full. */
int ns_xmit(struct netstack *ns, size_t len, unsigned flags);
void ns_icmp_input(struct netstack *ns, const struct ipv4_view *ip);
void ns_udp_input(struct netstack *ns, const struct ipv4_view *ip);
int ns_is_broadcast(const struct netstack *ns, uint32_t ip);

#endif
