/* format.c: the printf formatter shared by printf and snprintf. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/console.h>

enum { F_LEFT = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8, F_ALT = 16 };
enum { L_INT, L_CHAR, L_SHORT, L_LONG, L_LLONG, L_SIZE };

struct out {
  void (*emit)(void *ctx, char c);
  void *ctx;
  int count;
};

static void put(struct out *o, char c) {
  o->emit(o->ctx, c);
  o->count++;
}

static void pad(struct out *o, char c, int n) {
  while (n-- > 0) put(o, c);
}

static void put_str(struct out *o, const char *s, int flags, int width, int prec) {
  if (!s) s = "(null)";
  int len = 0;
  while (s[len] && (prec < 0 || len < prec)) len++;
  if (!(flags & F_LEFT)) pad(o, ' ', width - len);
  for (int i = 0; i < len; i++) put(o, s[i]);
  if (flags & F_LEFT) pad(o, ' ', width - len);
}

static void put_num(struct out *o, unsigned long long v, int negative, unsigned base, int upper,
                    int flags, int width, int prec) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int n = 0;
  while (v) {
    tmp[n++] = digits[v % base];
    v /= base;
  }
  if (prec < 0 && n == 0) tmp[n++] = '0'; /* precision 0 and value 0 prints nothing */
  int zeros = prec > n ? prec - n : 0;

  char prefix[2];
  int np = 0;
  if (negative) prefix[np++] = '-';
  else if (flags & F_PLUS) prefix[np++] = '+';
  else if (flags & F_SPACE) prefix[np++] = ' ';
  if ((flags & F_ALT) && base == 16 && n > 0 && !(n == 1 && tmp[0] == '0')) {
    prefix[np++] = '0';
    prefix[np++] = upper ? 'X' : 'x';
  } else if ((flags & F_ALT) && base == 8 && zeros == 0 && !(n == 1 && tmp[0] == '0')) {
    zeros = 1;
  }

  int body = np + zeros + n;
  if ((flags & F_ZERO) && !(flags & F_LEFT) && prec < 0 && width > body) {
    zeros += width - body;
    body = width;
  }
  if (!(flags & F_LEFT)) pad(o, ' ', width - body);
  for (int i = 0; i < np; i++) put(o, prefix[i]);
  pad(o, '0', zeros);
  while (n > 0) put(o, tmp[--n]);
  if (flags & F_LEFT) pad(o, ' ', width - body);
}

int pvkvm_vformat(void (*emit)(void *ctx, char c), void *ctx, const char *fmt, va_list ap) {
  struct out o = {emit, ctx, 0};
  va_list args;
  va_copy(args, ap);
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      put(&o, *p);
      continue;
    }
    p++;
    int flags = 0;
    for (;; p++) {
      if (*p == '-') flags |= F_LEFT;
      else if (*p == '0') flags |= F_ZERO;
      else if (*p == '+') flags |= F_PLUS;
      else if (*p == ' ') flags |= F_SPACE;
      else if (*p == '#') flags |= F_ALT;
      else break;
    }
    int width = 0;
    if (*p == '*') {
      width = va_arg(args, int);
      if (width < 0) {
        flags |= F_LEFT;
        width = -width;
      }
      p++;
    } else {
      while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    }
    int prec = -1;
    if (*p == '.') {
      p++;
      prec = 0;
      if (*p == '*') {
        prec = va_arg(args, int);
        if (prec < 0) prec = -1;
        p++;
      } else {
        while (*p >= '0' && *p <= '9') prec = prec * 10 + (*p++ - '0');
      }
    }
    int len = L_INT;
    if (*p == 'h') {
      len = L_SHORT;
      if (*++p == 'h') {
        len = L_CHAR;
        p++;
      }
    } else if (*p == 'l') {
      len = L_LONG;
      if (*++p == 'l') {
        len = L_LLONG;
        p++;
      }
    } else if (*p == 'z' || *p == 'j' || *p == 't') {
      len = *p == 'z' ? L_SIZE : L_LLONG;
      p++;
    }

    switch (*p) {
      case 'd':
      case 'i': {
        long long v;
        if (len == L_LONG) v = va_arg(args, long);
        else if (len == L_LLONG) v = va_arg(args, long long);
        else if (len == L_SIZE) v = (long long)va_arg(args, size_t);
        else v = va_arg(args, int);
        if (len == L_SHORT) v = (short)v;
        if (len == L_CHAR) v = (signed char)v;
        unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        put_num(&o, mag, v < 0, 10, 0, flags, width, prec);
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        unsigned long long v;
        if (len == L_LONG) v = va_arg(args, unsigned long);
        else if (len == L_LLONG) v = va_arg(args, unsigned long long);
        else if (len == L_SIZE) v = va_arg(args, size_t);
        else v = va_arg(args, unsigned int);
        if (len == L_SHORT) v = (unsigned short)v;
        if (len == L_CHAR) v = (unsigned char)v;
        unsigned base = *p == 'u' ? 10 : *p == 'o' ? 8 : 16;
        put_num(&o, v, 0, base, *p == 'X', flags & ~(F_PLUS | F_SPACE), width, prec);
        break;
      }
      case 'p': {
        uintptr_t v = (uintptr_t)va_arg(args, void *);
        put_num(&o, v, 0, 16, 0, (flags | F_ALT) & ~(F_PLUS | F_SPACE), width, prec);
        break;
      }
      case 's':
        put_str(&o, va_arg(args, const char *), flags, width, prec);
        break;
      case 'c': {
        char c = (char)va_arg(args, int);
        if (!(flags & F_LEFT)) pad(&o, ' ', width - 1);
        put(&o, c);
        if (flags & F_LEFT) pad(&o, ' ', width - 1);
        break;
      }
      case '%':
        put(&o, '%');
        break;
      case '\0':
        p--; /* lone '%' at the end */
        break;
      default: /* unknown conversion: print it as written */
        put(&o, '%');
        put(&o, *p);
        break;
    }
  }
  va_end(args);
  return o.count;
}

struct buf_sink {
  char *buf;
  size_t size;
  size_t len;
};

static void buf_emit(void *ctx, char c) {
  struct buf_sink *b = ctx;
  if (b->len + 1 < b->size) b->buf[b->len] = c;
  b->len++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
  struct buf_sink b = {buf, size, 0};
  int n = pvkvm_vformat(buf_emit, &b, fmt, ap);
  if (size > 0) buf[b.len < size ? b.len : size - 1] = '\0';
  return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}
