/* string.c: freestanding memory and string routines. The mem* ones use rep-string instructions
 * so gcc cannot turn their loops back into calls to themselves.
 *
 * memset and memcpy move 8 bytes per iteration where they can (rep stosq / movsq, then the tail
 * byte by byte). Natively that is as fast as the byte forms; where guest code runs in KVM's
 * instruction emulator (CPL 0 on the kvm_pvm hosts, docs/host-kvm.md §1.3) every iteration is
 * emulated separately, two guest page walks each at about the cost of an instruction, so the
 * byte forms cost ~8x more: a 4 KiB bounce copy was 4096 emulated steps, now 512. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/string.h>

/* Below this many bytes the byte form alone is no more iterations worth a second instruction. */
#define WIDE_MIN 16

void *memset(void *dst, int c, size_t n) {
  void *d = dst;
#ifdef __x86_64__
  if (n >= WIDE_MIN) {
    uint64_t v = (uint8_t)c * 0x0101010101010101ull;
    size_t q = n >> 3;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
    n &= 7;
  }
#endif
  if (n) __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
  void *d = dst;
#ifdef __x86_64__
  if (n >= WIDE_MIN) {
    size_t q = n >> 3;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) : : "memory");
    n &= 7;
  }
#endif
  if (n) __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  if ((char *)dst <= (const char *)src || (char *)dst >= (const char *)src + n)
    return memcpy(dst, src, n);
  void *d = (char *)dst + n - 1;
  const void *s = (const char *)src + n - 1;
  __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

size_t strnlen(const char *s, size_t max) {
  size_t n = 0;
  while (n < max && s[n]) n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n > 0; n--, a++, b++) {
    if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
    if (!*a) return 0;
  }
  return 0;
}

char *strchr(const char *s, int c) {
  for (;; s++) {
    if (*s == (char)c) return (char *)s;
    if (!*s) return NULL;
  }
}

static int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

unsigned long long strtoull(const char *s, const char **end, int base) {
  while (*s == ' ' || *s == '\t') s++;
  if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
      digit_value(s[2]) < 16) {
    s += 2;
    base = 16;
  }
  if (base == 0) base = 10;
  unsigned long long v = 0;
  while (digit_value(*s) < base) v = v * (unsigned)base + (unsigned)digit_value(*s++);
  if (end) *end = s;
  return v;
}

long long strtoll(const char *s, const char **end, int base) {
  while (*s == ' ' || *s == '\t') s++;
  int neg = *s == '-';
  if (*s == '-' || *s == '+') s++;
  unsigned long long v = strtoull(s, end, base);
  return neg ? -(long long)v : (long long)v;
}
