/* ne2000_dev.h: the NE2000 driver's device state and the card-level helpers its files share. */
#ifndef NE2000_DEV_H
#define NE2000_DEV_H
#include <pvkvm/net.h>
#include "ne2000_regs.h"

#define NE_TIMEOUT_NS 1000000000ull /* a remote DMA or transmit that takes longer: re-initialise */

struct ne2k_dev {
  struct net_dev net;
  enum ne2k_mode mode;
  int opened;
  int tx_busy;                 /* TXP issued, PTX/TXE not yet seen */
  uint8_t next_pkt;            /* page of the next frame to read (BNRY + 1) */
  volatile uint8_t isr_seen;   /* ISR bits read (and acknowledged) but not yet consumed */
  volatile uint32_t irq_seq;   /* bumped by the IRQ 9 handler */
  struct ne2k_stats stats;
  uint8_t frame[NE_MAX_FRAME + 4 + 2]; /* one received frame (word DMA may add a byte) */
};

/* Read and acknowledge ISR into isr_seen (interrupts off, page 0 selected). */
void ne2k_isr_update(struct ne2k_dev *d);
/* Wait (interrupts off) until one of `bits` is in isr_seen; consumes them. 0 or -XEN_ETIMEDOUT. */
int ne2k_wait_isr(struct ne2k_dev *d, uint8_t bits, uint64_t timeout_ns);
/* Reset and program the card (interrupts off). 0 or -errno. */
int ne2k_hw_init(struct ne2k_dev *d);
/* Remote DMA: read `len` bytes from card address `addr` into buf, or write them. 0 or -errno. */
int ne2k_dma_read(struct ne2k_dev *d, uint16_t addr, void *buf, unsigned len);
int ne2k_dma_write(struct ne2k_dev *d, uint16_t addr, const void *buf, unsigned len);
/* The receive ring's CURR (page 1 briefly selected). */
uint8_t ne2k_curr(void);

#endif
