/* addr.c: dotted-quad IPv4 addresses to and from host-order integers. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/netstack.h>

int net_parse_ip(const char *s, uint32_t *ip) {
  uint32_t v = 0;
  for (int part = 0; part < 4; part++) {
    unsigned n = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4) n = n * 10 + (unsigned)(*s++ - '0'), digits++;
    if (digits == 0 || digits > 3 || n > 255) return -XEN_EINVAL;
    v = v << 8 | n;
    if (part < 3 && *s++ != '.') return -XEN_EINVAL;
  }
  if (*s) return -XEN_EINVAL;
  *ip = v;
  return 0;
}

static char *put_dec(char *p, unsigned n) {
  if (n >= 100) *p++ = (char)('0' + n / 100);
  if (n >= 10) *p++ = (char)('0' + n / 10 % 10);
  *p++ = (char)('0' + n % 10);
  return p;
}

void net_format_ip(char *buf, uint32_t ip) {
  char *p = buf;
  for (int i = 3; i >= 0; i--) {
    p = put_dec(p, (ip >> (8 * i)) & 0xff);
    if (i) *p++ = '.';
  }
  *p = 0;
}
