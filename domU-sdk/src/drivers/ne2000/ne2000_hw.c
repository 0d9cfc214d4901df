/* ne2000_hw.c: the NE2000 card itself — probe, reset and set-up, remote DMA through the data port,
 * ISR bookkeeping shared by the polled and IRQ-driven paths. */
#include <pvkvm/console.h>
#include <pvkvm/isa.h>
#include <pvkvm/kcall.h>
#include <pvkvm/lapic.h>
#include <pvkvm/string.h>
#include "ne2000_dev.h"

int ne2k_probe(void) {
  /* Our 32 ports only, for CPL 3 (registers, data port, reset port). */
  if (pvkvm_ioperm(NE2K_IOBASE, 0x20, 1) < 0) return 0;
  /* A floating ISA bus reads 0xFF. */
  uint8_t cr = ne_in(NE_CR);
  if (cr == 0xff) return 0;
  /* Linux ne_probe1: the tally counters clear when read, which other cards at 0x300 do not do. */
  ne_out(NE_CR, CR_NODMA | CR_PAGE1 | CR_STP);
  uint8_t saved = ne_in(0x0d);
  ne_out(0x0d, 0xff);
  ne_out(NE_CR, CR_NODMA | CR_STP);
  (void)ne_in(EN0_CNTR0);
  if (ne_in(EN0_CNTR0) != 0) {
    ne_out(NE_CR, cr);
    ne_out(0x0d, saved);
    return 0;
  }
  return 1;
}

void ne2k_isr_update(struct ne2k_dev *d) {
  uint8_t v = ne_in(EN0_ISR) & 0x7f;
  d->stats.isr_reads++;
  if (v) ne_out(EN0_ISR, v);
  d->isr_seen |= v;
}

int ne2k_wait_isr(struct ne2k_dev *d, uint8_t bits, uint64_t timeout_ns) {
  uint64_t deadline = 0;
  /* In IRQ mode every ISR source the driver waits for is unmasked; inside another IRQ handler or
   * in polled mode we read ISR ourselves. */
  int sleep = d->mode == NE2K_IRQ_MODE && !isa_in_irq();
  for (;;) {
    if (!(d->isr_seen & bits)) ne2k_isr_update(d);
    if (d->isr_seen & bits) {
      d->isr_seen &= (uint8_t)~bits;
      return 0;
    }
    if (!deadline) deadline = isa_deadline(timeout_ns);
    if (isa_time_ns() >= deadline) return -XEN_ETIMEDOUT;
    if (sleep) {
      uint32_t seq = __atomic_load_n(&d->irq_seq, __ATOMIC_ACQUIRE);
      if (!(d->isr_seen & bits) && d->irq_seq == seq) isa_idle(deadline);
      cli();
    } else {
      cpu_relax();
    }
  }
}

static void dma_setup(uint16_t addr, unsigned len, uint8_t cmd) {
  ne_out(EN0_RBCR0, len & 0xff);
  ne_out(EN0_RBCR1, (len >> 8) & 0xff);
  ne_out(EN0_RSAR0, addr & 0xff);
  ne_out(EN0_RSAR1, addr >> 8);
  ne_out(NE_CR, cmd | CR_STA);
}

int ne2k_dma_read(struct ne2k_dev *d, uint16_t addr, void *buf, unsigned len) {
  unsigned words = (len + 1) / 2;
  d->isr_seen &= (uint8_t)~ISR_RDC;
  dma_setup(addr, words * 2, CR_RREAD);
  /* rep insw faults at CPL 3: the kernel does it (one exit per string, not per word). */
  pvkvm_string_io(PVKVM_SIO_IN | PVKVM_SIO_WORD, NE2K_IOBASE + NE_DATA, buf, words);
  return ne2k_wait_isr(d, ISR_RDC, NE_TIMEOUT_NS);
}

int ne2k_dma_write(struct ne2k_dev *d, uint16_t addr, const void *buf, unsigned len) {
  unsigned words = (len + 1) / 2;
  d->isr_seen &= (uint8_t)~ISR_RDC;
  dma_setup(addr, words * 2, CR_RWRITE);
  pvkvm_string_io(PVKVM_SIO_OUT | PVKVM_SIO_WORD, NE2K_IOBASE + NE_DATA, (void *)buf, words);
  return ne2k_wait_isr(d, ISR_RDC, NE_TIMEOUT_NS);
}

uint8_t ne2k_curr(void) {
  ne_out(NE_CR, CR_NODMA | CR_PAGE1 | CR_STA);
  uint8_t c = ne_in(EN1_CURR);
  ne_out(NE_CR, CR_NODMA | CR_STA);
  return c;
}

int ne2k_hw_init(struct ne2k_dev *d) {
  /* Reset: read the reset port and write the value back (Linux ne.c), then wait for ISR.RST. */
  uint8_t v = ne_in(NE_RESET);
  ne_out(NE_RESET, v);
  uint64_t deadline = isa_deadline(NE_TIMEOUT_NS);
  while (!(ne_in(EN0_ISR) & ISR_RST)) {
    if (isa_time_ns() >= deadline) return -XEN_ENODEV;
    cpu_relax();
  }
  ne_out(EN0_ISR, 0xff);
  ne_out(NE_CR, CR_NODMA | CR_STP);
  ne_out(EN0_DCR, DCR_WORD);
  ne_out(EN0_RBCR0, 0);
  ne_out(EN0_RBCR1, 0);
  ne_out(EN0_RCR, RCR_MON);        /* receive nothing while we set up */
  ne_out(EN0_TCR, TCR_LOOPBACK);
  ne_out(EN0_IMR, 0);
  /* Station address: the 16-bit card presents each PROM byte in both halves of a word. */
  uint16_t prom[16];
  d->isr_seen = 0;
  int rc = ne2k_dma_read(d, 0, prom, sizeof(prom));
  if (rc < 0) return rc;
  for (int i = 0; i < NET_ETH_ALEN; i++) d->net.mac[i] = (uint8_t)prom[i];
  ne_out(EN0_PSTART, NE_RX_START);
  ne_out(EN0_PSTOP, NE_RX_STOP);
  ne_out(EN0_BNRY, NE_RX_STOP - 1);
  ne_out(EN0_TPSR, NE_TX_PAGE);
  ne_out(NE_CR, CR_NODMA | CR_PAGE1 | CR_STP);
  for (int i = 0; i < NET_ETH_ALEN; i++) ne_out(EN1_PAR0 + i, d->net.mac[i]);
  for (int i = 0; i < 8; i++) ne_out(EN1_MAR0 + i, 0);
  ne_out(EN1_CURR, NE_RX_START);
  ne_out(NE_CR, CR_NODMA | CR_STP);
  d->next_pkt = NE_RX_START;
  d->tx_busy = 0;
  d->isr_seen = 0;
  ne_out(EN0_ISR, 0xff);
  ne_out(EN0_IMR, d->mode == NE2K_IRQ_MODE ? ISR_PRX | ISR_PTX | ISR_RXE | ISR_TXE | ISR_OVW | ISR_RDC : 0);
  ne_out(NE_CR, CR_NODMA | CR_STA);
  ne_out(EN0_TCR, 0);
  ne_out(EN0_RCR, RCR_AB);
  return 0;
}
