/* pvkvm/string.h: the freestanding string and memory routines (gcc may also call the mem* ones). */
#ifndef PVKVM_STRING_H
#define PVKVM_STRING_H
#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Decimal, or hex with 0x; *end (if given) points past the digits. */
unsigned long long strtoull(const char *s, const char **end, int base);
long long strtoll(const char *s, const char **end, int base);

#endif
