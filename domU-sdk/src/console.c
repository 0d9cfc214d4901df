/* console.c: line-buffered output to console_io, or to the debug port 0xE9 without Xen. */
#include <stdarg.h>
#include <stddef.h>
#include <pvkvm/arch.h>
#include <pvkvm/console.h>
#include <pvkvm/hypercall.h>

#define LINE_MAX 256

static char line[LINE_MAX];
static size_t line_len;
/* Set once console_io has failed (e.g. a real Xen denies it to a domU): use 0xE9 from then on. */
static int console_io_failed;

void debugcon_write(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) outb(XEN_HVM_DEBUGCONS_IOPORT, (unsigned char)s[i]);
}

void console_flush(void) {
  if (line_len == 0) return;
  if (pvkvm_xen_present() && !console_io_failed) {
    if (HYPERVISOR_console_io(CONSOLEIO_write, (int)line_len, line) < 0) console_io_failed = 1;
  }
  if (!pvkvm_xen_present() || console_io_failed) debugcon_write(line, line_len);
  line_len = 0;
}

static void console_putc(char c) {
  line[line_len++] = c;
  if (c == '\n' || line_len == LINE_MAX) console_flush();
}

void console_write(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) console_putc(s[i]);
}

int putchar(int c) {
  console_putc((char)c);
  return (unsigned char)c;
}

int puts(const char *s) {
  while (*s) console_putc(*s++);
  console_putc('\n');
  return 0;
}

static void console_emit(void *ctx, char c) {
  (void)ctx;
  console_putc(c);
}

int vprintf(const char *fmt, va_list ap) {
  return pvkvm_vformat(console_emit, NULL, fmt, ap);
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}
