/* uart.c: the 16550A UART at COM1, polled or interrupt-driven (IRQ 4); see <pvkvm/uart.h>.
 *
 * One UART, used from one vCPU at a time (the console serialises its own output). The rings are
 * single-producer/single-consumer between the IRQ handler and the callers; everything that
 * touches IER or a ring index from the caller's side runs with interrupts off. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/isa.h>
#include <pvkvm/kcall.h>
#include <pvkvm/lapic.h>
#include <pvkvm/uart.h>

#define RX_RING 256u  /* powers of two: indices run freely and are masked */
#define TX_RING 1024u
#define THRE_SPINS 1000000u /* LSR reads before a stuck transmitter is given up on */

static const uint16_t base = UART_COM1_PORT;
static int present;
static enum uart_mode mode = UART_POLLED;
static uint8_t ier; /* what we last wrote to IER */

static uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail; /* head: the handler's; tail: the readers' */
static uint8_t tx_ring[TX_RING];
static volatile uint32_t tx_head, tx_tail; /* head: the writers'; tail: the handler's */
static struct uart_stats stats;

static inline uint8_t reg_in(unsigned r) { return inb(base + r); }
static inline void reg_out(unsigned r, uint8_t v) { outb(base + r, v); }

static void set_ier(uint8_t v) {
  ier = v;
  reg_out(UART_IER, v);
}

/* ---- polled primitives ---- */

/* Wait for room in the transmitter, then send c. Gives up on a transmitter that never empties. */
static void tx_polled(uint8_t c) {
  for (unsigned i = 0; i < THRE_SPINS && !(reg_in(UART_LSR) & UART_LSR_THRE); i++) cpu_relax();
  reg_out(UART_THR, c);
  stats.tx_bytes++;
}

/* Move what the receive FIFO holds into the ring (handler, or a caller with interrupts off). */
static void rx_drain(void) {
  for (unsigned guard = 0; guard < 4 * UART_FIFO_SIZE; guard++) {
    uint8_t lsr = reg_in(UART_LSR);
    if (lsr & 0x1E) stats.line_errors++; /* OE, PE, FE, BI */
    if (!(lsr & UART_LSR_DR)) break;
    uint8_t c = reg_in(UART_RBR);
    if (rx_head - rx_tail >= RX_RING) {
      stats.rx_dropped++;
      continue;
    }
    rx_ring[rx_head % RX_RING] = c;
    __atomic_store_n(&rx_head, rx_head + 1, __ATOMIC_RELEASE);
    stats.rx_irq_bytes++;
  }
}

/* Send everything in the transmit ring by polling (interrupts off). */
static void tx_ring_drain_polled(void) {
  while (tx_tail != tx_head) {
    tx_polled(tx_ring[tx_tail % TX_RING]);
    tx_tail++;
  }
}

/* ---- the IRQ 4 handler ---- */

static void uart_irq(unsigned irq, void *arg) {
  (void)irq;
  (void)arg;
  stats.irqs++;
  /* Serve every pending cause: the line is edge-triggered at the PIC/IOAPIC, so one left
   * pending would never interrupt again. */
  for (unsigned guard = 0; guard < 32; guard++) {
    uint8_t iir = reg_in(UART_IIR);
    if (iir & UART_IIR_NO_INT) break;
    switch (iir & UART_IIR_ID) {
    case 0x06: /* receiver line status: reading LSR clears it */
      if (reg_in(UART_LSR) & 0x1E) stats.line_errors++;
      break;
    case 0x04: /* received data at the trigger level */
    case 0x0C: /* character timeout: data below the trigger level */
      rx_drain();
      break;
    case 0x02: /* THR empty (reading IIR cleared it): refill the FIFO */
      for (unsigned n = 0; n < UART_FIFO_SIZE && tx_tail != tx_head; n++) {
        reg_out(UART_THR, tx_ring[tx_tail % TX_RING]);
        tx_tail++;
        stats.tx_bytes++;
        stats.tx_irq_bytes++;
      }
      if (tx_tail == tx_head) set_ier(ier & ~UART_IER_THRI);
      break;
    default: /* 0x00: modem status; reading MSR clears it */
      (void)reg_in(UART_MSR);
      break;
    }
  }
}

/* ---- set-up ---- */

int uart_present(void) { return present; }

enum uart_mode uart_get_mode(void) { return mode; }

int uart_init(unsigned baud, enum uart_mode m) {
  if (baud == 0) baud = UART_CLOCK_HZ;
  if (baud > UART_CLOCK_HZ || UART_CLOCK_HZ % baud) return -XEN_EINVAL;
  if (pvkvm_ioperm(base, 8, 1) < 0) return -XEN_ENODEV; /* COM1's eight registers, for CPL 3 */
  /* The scratch register holds what we write only if a UART is there. */
  reg_out(UART_SCR, 0x5A);
  uint8_t a = reg_in(UART_SCR);
  reg_out(UART_SCR, 0xA5);
  uint8_t b = reg_in(UART_SCR);
  if (a != 0x5A || b != 0xA5) return -XEN_ENODEV;
  if (present && mode == UART_IRQ) uart_set_mode(UART_POLLED);

  unsigned long flags = local_irq_save();
  set_ier(0);
  uint16_t divisor = (uint16_t)(UART_CLOCK_HZ / baud);
  reg_out(UART_LCR, UART_LCR_DLAB);
  reg_out(UART_DLL, divisor & 0xFF);
  reg_out(UART_DLM, divisor >> 8);
  reg_out(UART_LCR, UART_LCR_8N1);
  reg_out(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX | UART_FCR_TRIGGER_14);
  reg_out(UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
  /* Clear anything pending from before. */
  (void)reg_in(UART_LSR);
  (void)reg_in(UART_MSR);
  (void)reg_in(UART_IIR);
  while (reg_in(UART_LSR) & UART_LSR_DR) (void)reg_in(UART_RBR);
  rx_head = rx_tail = tx_head = tx_tail = 0;
  present = 1;
  mode = UART_POLLED;
  local_irq_restore(flags);
  return m == UART_IRQ ? uart_set_mode(UART_IRQ) : 0;
}

int uart_set_mode(enum uart_mode m) {
  if (!present) return -XEN_ENODEV;
  unsigned long flags = local_irq_save();
  if (m == UART_IRQ && mode != UART_IRQ) {
    /* Unmask the line first: an IOAPIC drops an edge that arrives while its pin is masked. */
    int rc = isa_irq_attach(UART_COM1_IRQ, uart_irq, NULL);
    if (rc < 0) {
      local_irq_restore(flags);
      return rc;
    }
    mode = UART_IRQ;
    set_ier(UART_IER_RDI | UART_IER_RLSI | (tx_tail != tx_head ? UART_IER_THRI : 0));
  }
  if (m == UART_POLLED && mode != UART_POLLED) {
    set_ier(0);
    isa_irq_detach(UART_COM1_IRQ);
    tx_ring_drain_polled(); /* what the handler had not sent yet */
    mode = UART_POLLED;
  }
  local_irq_restore(flags);
  return 0;
}

/* ---- output ---- */

void uart_putc(char c) { uart_write(&c, 1); }

void uart_write(const void *buf, size_t n) {
  const uint8_t *p = buf;
  if (!present) return;
  if (mode == UART_POLLED) {
    for (size_t i = 0; i < n; i++) tx_polled(p[i]);
    return;
  }
  unsigned long flags = local_irq_save();
  if (!(flags & 0x200)) {
    /* Interrupts were off: nobody would empty the ring. Send it and then these by polling. */
    tx_ring_drain_polled();
    for (size_t i = 0; i < n; i++) tx_polled(p[i]);
    return; /* interrupts stay off */
  }
  for (size_t i = 0; i < n; i++) {
    while (tx_head - tx_tail >= TX_RING) { /* full: let the handler make room */
      if (!(ier & UART_IER_THRI)) set_ier(ier | UART_IER_THRI);
      isa_idle(0);
      cli();
    }
    tx_ring[tx_head % TX_RING] = p[i];
    tx_head++;
  }
  /* Enabling THRI while the transmitter is empty raises the interrupt at once. */
  if (tx_tail != tx_head && !(ier & UART_IER_THRI)) set_ier(ier | UART_IER_THRI);
  local_irq_restore(flags);
}

void uart_flush(void) {
  if (!present) return;
  unsigned long flags = local_irq_save();
  if (mode == UART_IRQ && (flags & 0x200)) {
    while (tx_tail != tx_head) {
      if (!(ier & UART_IER_THRI)) set_ier(ier | UART_IER_THRI);
      isa_idle(0);
      cli();
    }
  } else {
    tx_ring_drain_polled();
  }
  for (unsigned i = 0; i < THRE_SPINS && !(reg_in(UART_LSR) & UART_LSR_TEMT); i++) cpu_relax();
  local_irq_restore(flags);
}

/* ---- input ---- */

static int rx_pop(void) {
  if (__atomic_load_n(&rx_head, __ATOMIC_ACQUIRE) == rx_tail) return -1;
  uint8_t c = rx_ring[rx_tail % RX_RING];
  rx_tail++;
  stats.rx_bytes++;
  return c;
}

int uart_try_getc(void) {
  if (!present) return -1;
  unsigned long flags = local_irq_save();
  int c = rx_pop();
  if (c < 0 && (mode == UART_POLLED || !(flags & 0x200))) {
    /* No handler will fill the ring now: look at the device ourselves. */
    if (reg_in(UART_LSR) & UART_LSR_DR) {
      c = reg_in(UART_RBR);
      stats.rx_bytes++;
    }
  }
  local_irq_restore(flags);
  return c;
}

int uart_getc_timeout(uint64_t timeout_ns) {
  if (!present) return -1;
  uint64_t deadline = isa_deadline(timeout_ns);
  unsigned long flags = local_irq_save();
  /* IRQ mode: a sleep point (interrupts on while halted, see <pvkvm/isa.h>) until the handler has
   * put something in the ring, except inside an ISA handler. Otherwise poll the device. */
  int sleep = mode == UART_IRQ && !isa_in_irq();
  int c;
  for (;;) {
    c = rx_pop();
    if (c < 0 && !sleep && (reg_in(UART_LSR) & UART_LSR_DR)) {
      c = reg_in(UART_RBR);
      stats.rx_bytes++;
    }
    if (c >= 0 || isa_time_ns() >= deadline) break;
    if (sleep) {
      isa_idle(deadline);
      cli();
    } else {
      cpu_relax();
    }
  }
  local_irq_restore(flags);
  return c;
}

int uart_getc(void) { return uart_getc_timeout(UINT64_MAX); }

size_t uart_read(void *buf, size_t n) {
  uint8_t *p = buf;
  size_t got = 0;
  while (got < n) {
    int c = uart_try_getc();
    if (c < 0) break;
    p[got++] = (uint8_t)c;
  }
  return got;
}

void uart_get_stats(struct uart_stats *out) { *out = stats; }
