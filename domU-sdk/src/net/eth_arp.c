/* eth_arp.c: Ethernet and ARP (Ethernet/IPv4 only) headers, parsed from untrusted bytes and built. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/netstack.h>
#include <pvkvm/string.h>

int eth_parse(const uint8_t *frame, size_t len, struct eth_view *v) {
  if (len < NET_ETH_HLEN) return NET_E_SHORT;
  v->dst = frame;
  v->src = frame + 6;
  v->type = net_get16(frame + 12);
  if (v->type < 0x0600) return NET_E_UNSUPP; /* an 802.3 length field, not an EtherType */
  v->payload = frame + NET_ETH_HLEN;
  v->len = len - NET_ETH_HLEN;
  return NET_OK;
}

size_t eth_build(uint8_t *frame, const uint8_t dst[6], const uint8_t src[6], uint16_t type) {
  memcpy(frame, dst, 6);
  memcpy(frame + 6, src, 6);
  net_put16(frame + 12, type);
  return NET_ETH_HLEN;
}

int arp_parse(const uint8_t *p, size_t len, struct arp_view *a) {
  if (len < ARP_LEN) return NET_E_SHORT;
  /* htype 1 (Ethernet), ptype IPv4, hlen 6, plen 4: anything else is not ours to answer */
  if (net_get16(p) != 1 || net_get16(p + 2) != ETH_TYPE_IPV4 || p[4] != 6 || p[5] != 4) return NET_E_UNSUPP;
  a->op = net_get16(p + 6);
  if (a->op != ARP_OP_REQUEST && a->op != ARP_OP_REPLY) return NET_E_UNSUPP;
  memcpy(a->sha, p + 8, 6);
  a->spa = net_get32(p + 14);
  memcpy(a->tha, p + 18, 6);
  a->tpa = net_get32(p + 24);
  return NET_OK;
}

size_t arp_build(uint8_t *p, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa) {
  net_put16(p, 1);
  net_put16(p + 2, ETH_TYPE_IPV4);
  p[4] = 6;
  p[5] = 4;
  net_put16(p + 6, op);
  memcpy(p + 8, sha, 6);
  net_put32(p + 14, spa);
  memcpy(p + 18, tha, 6);
  net_put32(p + 24, tpa);
  return ARP_LEN;
}
