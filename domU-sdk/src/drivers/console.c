/* console.c: line-buffered output to the PV console ring (if the domain has a console backend),
 * else console_io, or the debug port 0xE9 without Xen; and the 16550 UART at 0x3F8 with
 * cmdline console=uart (instead of the others) or without Xen (besides the debug port). */
#include <stdarg.h>
#include <stddef.h>
#include <pvkvm/arch.h>
#include <pvkvm/console.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/lock.h>
#include <pvkvm/pvconsole.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include <pvkvm/uart.h>

#define LINE_MAX 256

static char line[LINE_MAX];
static size_t line_len;
/* Set once console_io has failed (e.g. a real Xen denies it to a domU): use 0xE9 from then on. */
static int console_io_failed;

/*
 * SMP: one vCPU at a time owns the line buffer. The lock is recursive per vCPU (an owner lock and
 * a depth), so an event handler or trap that prints while its vCPU holds it does not deadlock.
 * Until a secondary vCPU starts (pvkvm_smp_id_leaf = 0) it is skipped.
 */
static pvkvm_owner_lock_t console_owner = PVKVM_OWNER_LOCK_INIT;
static unsigned console_depth;

static int console_lock(void) {
  if (!__atomic_load_n(&pvkvm_smp_id_leaf, __ATOMIC_RELAXED)) return 0;
  if (owner_lock(&console_owner) == -XEN_EDEADLK) { /* this vCPU holds it: one level deeper */
    console_depth++;
    return 1;
  }
  console_depth = 1;
  return 1;
}

static void console_unlock(int locked) {
  if (locked && --console_depth == 0) owner_unlock(&console_owner);
}

/* At CPL 3 a port write is a trap each (~100,000 cycles on kvm_pvm hosts): the kernel sends the
 * whole string with one rep outsb instead (the port is open to every level). */
void debugcon_write(const char *s, size_t n) {
  if (pvkvm_at_cpl3() && pvkvm_string_io(PVKVM_SIO_OUT | PVKVM_SIO_BYTE, XEN_HVM_DEBUGCONS_IOPORT,
                                         (void *)s, n) == 0)
    return;
  for (size_t i = 0; i < n; i++) outb(XEN_HVM_DEBUGCONS_IOPORT, (unsigned char)s[i]);
}

/*
 * The UART console, decided on the first output once the command line is known:
 *   console=uart      the UART only (if one answers at 0x3F8; otherwise the usual path);
 *   console=OTHER     the usual path only (e.g. console=debugcon under QEMU keeps COM1 free);
 *   no console=       with Xen the usual path; without Xen the debug port AND the UART.
 * The UART is programmed polled (115200 8N1) unless the guest already set it up; "\n" goes out
 * as "\r\n".
 */
enum { UART_CON_UNDECIDED, UART_CON_OFF, UART_CON_ALSO, UART_CON_ONLY };
static int uart_con = UART_CON_UNDECIDED;

static void uart_con_decide(void) {
  char want[16];
  int has = pvkvm_cmdline_get("console", want, sizeof(want)) >= 0;
  int only = has && strcmp(want, "uart") == 0;
  int mode = only ? UART_CON_ONLY : (!has && !pvkvm_xen_present()) ? UART_CON_ALSO : UART_CON_OFF;
  if (mode != UART_CON_OFF && !uart_present() && uart_init(0, UART_POLLED) < 0) mode = UART_CON_OFF;
  /* Before start info is parsed the command line is unknown: decide again next time. */
  if (pvkvm_start_info() || mode != UART_CON_OFF) uart_con = mode;
}

static void uart_con_write(const char *s, size_t n) {
  size_t start = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\n') {
      uart_write(s + start, i - start);
      uart_write("\r\n", 2);
      start = i + 1;
    }
  uart_write(s + start, n - start);
}

static void flush_locked(void) {
  if (line_len == 0) return;
  if (uart_con == UART_CON_UNDECIDED) uart_con_decide();
  if (uart_con == UART_CON_ONLY) {
    uart_con_write(line, line_len);
    line_len = 0;
    return;
  }
  if (uart_con == UART_CON_ALSO) uart_con_write(line, line_len);
  /* PV console ring when the domain has a console backend (pvconsole.c decides once, on first
   * output); whatever it did not take (none without a backend) goes the usual way below. */
  size_t pv = pvconsole_try_write(line, line_len);
  const char *rest = line + pv;
  size_t rest_len = line_len - pv;
  if (rest_len && pvkvm_xen_present() && !console_io_failed) {
    if (HYPERVISOR_console_io(CONSOLEIO_write, (int)rest_len, rest) < 0) console_io_failed = 1;
  }
  if (rest_len && (!pvkvm_xen_present() || console_io_failed)) debugcon_write(rest, rest_len);
  line_len = 0;
}

void console_flush(void) {
  int locked = console_lock();
  flush_locked();
  if (uart_con == UART_CON_ONLY || uart_con == UART_CON_ALSO) uart_flush(); /* IRQ mode: the ring too */
  pvconsole_try_drain(); /* PV console: wait (bounded) until the backend has taken it all */
  console_unlock(locked);
}

static void console_putc(char c) {
  line[line_len++] = c;
  if (c == '\n' || line_len == LINE_MAX) flush_locked();
}

void console_write(const char *s, size_t n) {
  int locked = console_lock();
  for (size_t i = 0; i < n; i++) console_putc(s[i]);
  console_unlock(locked);
}

int putchar(int c) {
  int locked = console_lock();
  console_putc((char)c);
  console_unlock(locked);
  return (unsigned char)c;
}

int puts(const char *s) {
  int locked = console_lock();
  while (*s) console_putc(*s++);
  console_putc('\n');
  console_unlock(locked);
  return 0;
}

static void console_emit(void *ctx, char c) {
  (void)ctx;
  console_putc(c);
}

int vprintf(const char *fmt, va_list ap) {
  int locked = console_lock();
  int n = pvkvm_vformat(console_emit, NULL, fmt, ap);
  console_unlock(locked);
  return n;
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}
