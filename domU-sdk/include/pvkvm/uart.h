/*
 * pvkvm/uart.h: the 16550A UART at COM1 (0x3F8, ISA IRQ 4) — the serial port QEMU emulates and
 * pvkvm's full-virtualization comparator provides (docs/performance.md §4).
 *
 *   if (uart_init(115200, UART_POLLED) == 0) uart_write("hi\r\n", 4);
 *   int c = uart_getc_timeout(1000000000);   // a byte, or -1 after 1 s
 *
 * uart_init programs the divisor latch (115200 / baud), 8N1, FIFOs enabled and cleared (14-byte
 * receive trigger), MCR = DTR | RTS | OUT2 (OUT2 gates the IRQ line on a PC), and checks the
 * scratch register first: -XEN_ENODEV when nothing answers at the port (pvkvm without the
 * emulated UART reads unclaimed ports as 0xFF).
 *
 * Modes (uart_set_mode switches at any time):
 *   UART_POLLED  no interrupts (IER = 0). uart_putc waits for LSR.THRE, uart_getc for LSR.DR.
 *   UART_IRQ     IRQ 4 through <pvkvm/isa.h> (8259 PIC without Xen, IOAPIC with it). Receive:
 *                the handler moves bytes from the FIFO into a 256-byte ring (counting overruns);
 *                the readers take from the ring and sleep in isa_idle() while it is empty.
 *                Transmit: writers append to a 1 KiB ring and enable the THRE interrupt; the
 *                handler refills the FIFO (16 bytes per interrupt) and disables THRE when the
 *                ring is empty. A writer that finds the ring full sleeps until there is room.
 *                With interrupts off (IF = 0, e.g. printf from a trap or an event handler) the
 *                writer cannot sleep: it empties the ring by polling, then writes directly, so
 *                bytes stay in order and console output works in every context.
 *
 * uart_write and uart_putc send bytes as they are (no "\n" → "\r\n"; the console does that).
 */
#ifndef PVKVM_UART_H
#define PVKVM_UART_H
#include <stddef.h>
#include <stdint.h>

#define UART_COM1_PORT 0x3F8
#define UART_COM1_IRQ 4
#define UART_CLOCK_HZ 115200 /* 1.8432 MHz / 16: divisor = UART_CLOCK_HZ / baud */

/* Register offsets from the base port (DLAB = LCR bit 7 selects the divisor latch at 0/1). */
#define UART_RBR 0 /* receive buffer (read) */
#define UART_THR 0 /* transmit holding (write) */
#define UART_DLL 0 /* divisor low (DLAB) */
#define UART_IER 1 /* interrupt enable */
#define UART_DLM 1 /* divisor high (DLAB) */
#define UART_IIR 2 /* interrupt identification (read) */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_MSR 6 /* modem status */
#define UART_SCR 7 /* scratch */

#define UART_IER_RDI 0x01  /* received data available */
#define UART_IER_THRI 0x02 /* transmit holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI 0x08  /* modem status */
#define UART_IIR_NO_INT 0x01
#define UART_IIR_ID 0x0E   /* 0x06 line status, 0x04 data, 0x0C char timeout, 0x02 THRE, 0x00 modem */
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_FCR_TRIGGER_14 0xC0
#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01   /* data ready */
#define UART_LSR_OE 0x02   /* overrun */
#define UART_LSR_THRE 0x20 /* THR (or transmit FIFO) empty */
#define UART_LSR_TEMT 0x40 /* transmitter idle */
#define UART_FIFO_SIZE 16

enum uart_mode { UART_POLLED = 0, UART_IRQ = 1 };

struct uart_stats {
  uint64_t irqs;        /* IRQ 4 handler runs */
  uint64_t rx_bytes, tx_bytes;
  uint64_t rx_irq_bytes; /* bytes the handler moved into the receive ring */
  uint64_t tx_irq_bytes; /* bytes the handler moved from the transmit ring to the FIFO */
  uint64_t rx_dropped;  /* receive ring full */
  uint64_t line_errors; /* LSR overrun/parity/framing/break seen */
};

/* Probe and program COM1 for `baud` (115200 / baud must be a whole number; 0 means 115200), 8N1,
 * in `mode`. 0, -XEN_ENODEV (no UART), -XEN_EINVAL (bad baud). */
int uart_init(unsigned baud, enum uart_mode mode);
int uart_present(void);                 /* uart_init succeeded */
int uart_set_mode(enum uart_mode mode); /* 0, or -XEN_ENODEV */
enum uart_mode uart_get_mode(void);

void uart_putc(char c);
void uart_write(const void *buf, size_t n);
/* Wait until every byte queued so far has left the transmitter (LSR.TEMT). */
void uart_flush(void);

int uart_getc(void);                     /* waits for a byte */
int uart_getc_timeout(uint64_t timeout_ns); /* a byte, or -1 after timeout_ns */
int uart_try_getc(void);                 /* a byte, or -1 if none is waiting */
size_t uart_read(void *buf, size_t n);   /* what is waiting, up to n bytes; never waits */

void uart_get_stats(struct uart_stats *out);

#endif
