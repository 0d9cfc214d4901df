/*
 * uartecho: the 16550 UART driver (<pvkvm/uart.h>) against an emulated COM1 (QEMU -serial stdio).
 *
 * Options: uart.mode=polled|irq (default polled), bulk=N (default 3000: bytes of the bulk line,
 * more than the 1 KiB transmit ring so that IRQ mode must wait for the handler to make room),
 * timeout_ms=T (default 10000, for the host's line).
 *
 * Protocol, all on the serial port (the host runs the guest with console=uart so printf output is
 * there too):
 *   guest: "uartecho: ready mode=irq\r\n"
 *   host:  one line, e.g. "ping 12345\n"
 *   guest: "uartecho: got <line>\r\n"
 *   guest: "uartecho: bulk <N bytes: (i * 7 + 3) % 26 + 'a' for i = 0..N-1>\r\n"
 *   guest: "uartecho: irqs=... rx_irq_bytes=... tx_irq_bytes=... rx_dropped=... line_errors=..."
 *   guest: "Test result: SUCCESS"
 * In IRQ mode the guest enables interrupts and checks that the IRQ 4 handler moved bytes both ways.
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/isa.h>
#include <pvkvm/uart.h>

static char line[256];
static char bulk[8192];

static void say(const char *s) { uart_write(s, strlen(s)); }

int main(void) {
  char m[16] = "polled";
  pvkvm_cmdline_get("uart.mode", m, sizeof(m));
  enum uart_mode mode = strcmp(m, "irq") == 0 ? UART_IRQ : UART_POLLED;
  uint64_t nbulk = pvkvm_cmdline_ull("bulk", 3000);
  uint64_t timeout_ns = pvkvm_cmdline_ull("timeout_ms", 10000) * 1000000ull;
  if (nbulk > sizeof(bulk)) nbulk = sizeof(bulk);

  console_flush();
  int rc = uart_init(115200, mode);
  if (rc < 0) {
    printf("uartecho: no UART at 0x3F8: %d\n", rc);
    test_exit(TEST_FAILURE);
  }
  if (mode == UART_IRQ) local_irq_enable(); /* the transmit ring is drained by the handler */

  say(mode == UART_IRQ ? "uartecho: ready mode=irq\r\n" : "uartecho: ready mode=polled\r\n");
  size_t n = 0;
  for (;;) {
    int c = uart_getc_timeout(timeout_ns);
    if (c < 0) {
      printf("uartecho: timed out waiting for the host's line (%u bytes so far)\n", (unsigned)n);
      test_exit(TEST_FAILURE);
    }
    if (c == '\n') break;
    if (c != '\r' && n < sizeof(line) - 1) line[n++] = (char)c;
  }
  line[n] = 0;
  say("uartecho: got ");
  say(line);
  say("\r\n");

  for (uint64_t i = 0; i < nbulk; i++) bulk[i] = (char)('a' + (i * 7 + 3) % 26);
  say("uartecho: bulk ");
  uart_write(bulk, nbulk);
  say("\r\n");
  uart_flush();

  struct uart_stats st;
  uart_get_stats(&st);
  printf("uartecho: irqs=%llu rx_irq_bytes=%llu tx_irq_bytes=%llu rx_dropped=%llu line_errors=%llu route=%s\n",
         (unsigned long long)st.irqs, (unsigned long long)st.rx_irq_bytes, (unsigned long long)st.tx_irq_bytes,
         (unsigned long long)st.rx_dropped, (unsigned long long)st.line_errors,
         mode == UART_IRQ ? isa_irq_route_name(isa_irq_init(ISA_ROUTE_AUTO)) : "-");
  CHECK_EQ(st.rx_dropped, 0);
  if (mode == UART_IRQ) {
    CHECK(st.irqs > 0);
    CHECK(st.rx_irq_bytes >= n + 1);       /* the line and its newline came through the handler */
    CHECK(st.tx_irq_bytes >= nbulk);       /* and the bulk line went out through it */
  } else {
    CHECK_EQ(st.irqs, 0);
  }
  uart_set_mode(UART_POLLED);
  test_done();
}
