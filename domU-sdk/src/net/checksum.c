/* checksum.c: the Internet checksum (RFC 1071), 16-bit big-endian words summed in 64 bits so
 * carries can wait until the fold. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/netstack.h>

uint32_t inet_csum_add(uint32_t sum, const void *data, size_t len) {
  const uint8_t *p = data;
  uint64_t s = sum;
  while (len >= 2) {
    s += (uint32_t)(p[0] << 8 | p[1]);
    p += 2;
    len -= 2;
  }
  if (len) s += (uint32_t)p[0] << 8; /* an odd last byte is padded with zero */
  while (s >> 32) s = (s & 0xffffffffu) + (s >> 32);
  return (uint32_t)s;
}

uint16_t inet_csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffffu) + (sum >> 16);
  return (uint16_t)~sum;
}

uint16_t inet_csum(const void *data, size_t len) { return inet_csum_fold(inet_csum_add(0, data, len)); }

uint32_t inet_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len) {
  uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
  return (uint32_t)s;
}
