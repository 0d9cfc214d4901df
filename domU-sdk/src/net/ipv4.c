/* ipv4.c: IPv4, ICMP and UDP headers, parsed from untrusted bytes (lengths and checksums checked)
 * and built (checksums filled in). */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/netstack.h>
#include <pvkvm/string.h>

int ipv4_parse(const uint8_t *p, size_t len, struct ipv4_view *v) {
  if (len < IPV4_HLEN) return NET_E_SHORT;
  if (p[0] >> 4 != 4) return NET_E_BADHDR;
  size_t hlen = (size_t)(p[0] & 15) * 4;
  if (hlen < IPV4_HLEN) return NET_E_BADHDR;
  if (hlen > len) return NET_E_SHORT;
  size_t total = net_get16(p + 2);
  if (total < hlen) return NET_E_BADHDR;
  if (total > len) return NET_E_SHORT; /* bytes beyond total (Ethernet padding) are ignored */
  if (inet_csum(p, hlen) != 0) return NET_E_CSUM;
  uint16_t frag = net_get16(p + 6);
  if (frag & 0x2000 || (frag & 0x1fff) != 0) return NET_E_FRAG; /* MF or an offset: we do not reassemble */
  v->hlen = hlen;
  v->id = net_get16(p + 4);
  v->ttl = p[8];
  v->proto = p[9];
  v->src = net_get32(p + 12);
  v->dst = net_get32(p + 16);
  v->payload = p + hlen;
  v->len = total - hlen;
  return NET_OK;
}

size_t ipv4_build(uint8_t *p, uint8_t proto, uint32_t src, uint32_t dst, uint16_t id, uint8_t ttl, size_t payload_len) {
  p[0] = 0x45;
  p[1] = 0;
  net_put16(p + 2, (uint16_t)(IPV4_HLEN + payload_len));
  net_put16(p + 4, id);
  net_put16(p + 6, 0x4000); /* DF: we never fragment */
  p[8] = ttl;
  p[9] = proto;
  net_put16(p + 10, 0);
  net_put32(p + 12, src);
  net_put32(p + 16, dst);
  net_put16(p + 10, inet_csum(p, IPV4_HLEN));
  return IPV4_HLEN;
}

int icmp_parse(const uint8_t *p, size_t len, struct icmp_view *v) {
  if (len < ICMP_HLEN) return NET_E_SHORT;
  if (inet_csum(p, len) != 0) return NET_E_CSUM;
  v->type = p[0];
  v->code = p[1];
  v->id = net_get16(p + 4);
  v->seq = net_get16(p + 6);
  v->data = p + ICMP_HLEN;
  v->len = len - ICMP_HLEN;
  return NET_OK;
}

size_t icmp_echo_build(uint8_t *p, uint8_t type, uint16_t id, uint16_t seq, const void *data, size_t len) {
  p[0] = type;
  p[1] = 0;
  net_put16(p + 2, 0);
  net_put16(p + 4, id);
  net_put16(p + 6, seq);
  if (data && data != p + ICMP_HLEN) memmove(p + ICMP_HLEN, data, len);
  net_put16(p + 2, inet_csum(p, ICMP_HLEN + len));
  return ICMP_HLEN + len;
}

int udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct udp_view *v) {
  if (len < UDP_HLEN) return NET_E_SHORT;
  size_t ulen = net_get16(p + 4);
  if (ulen < UDP_HLEN) return NET_E_BADHDR;
  if (ulen > len) return NET_E_SHORT;
  if (net_get16(p + 6) != 0) { /* 0: the sender computed no checksum (allowed over IPv4) */
    uint32_t sum = inet_pseudo_sum(src, dst, IP_PROTO_UDP, (uint16_t)ulen);
    if (inet_csum_fold(inet_csum_add(sum, p, ulen)) != 0) return NET_E_CSUM;
  }
  v->sport = net_get16(p);
  v->dport = net_get16(p + 2);
  v->data = p + UDP_HLEN;
  v->len = ulen - UDP_HLEN;
  return NET_OK;
}

size_t udp_build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const void *data, size_t len) {
  uint16_t ulen = (uint16_t)(UDP_HLEN + len);
  net_put16(p, sport);
  net_put16(p + 2, dport);
  net_put16(p + 4, ulen);
  net_put16(p + 6, 0);
  if (data && data != p + UDP_HLEN) memmove(p + UDP_HLEN, data, len);
  uint16_t c = inet_csum_fold(inet_csum_add(inet_pseudo_sum(src, dst, IP_PROTO_UDP, ulen), p, ulen));
  net_put16(p + 6, c ? c : 0xffff); /* a computed 0 is sent as all ones (RFC 768) */
  return ulen;
}
