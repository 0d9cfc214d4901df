/*
 * pvkvm/ne2000.h: an NE2000-compatible ISA NIC (DP8390 core; I/O 0x300-0x31F, IRQ 9) — QEMU's
 * `-device ne2k_isa` and pvkvm's emulated NIC (vif model=ne2k_isa) — behind <pvkvm/net.h>
 * ("ne2k" in the driver table, after the PV NIC; net=ne2k forces it).
 *
 * Card set-up (Linux ne.c/8390.c order): reset port, word-wide DMA (DCR 0x49), station address
 * from the PROM (each byte doubled), TX buffer at page 0x40 (6 pages: one frame), receive ring
 * pages 0x46-0x7F, BNRY = PSTOP-1 and CURR = PSTART, accept own address and broadcast.
 * Sending copies the frame into the TX buffer by remote DMA write (`rep outsw`) and sets TXP; the
 * next send first waits for PTX/TXE. Receiving reads the 4-byte header at BNRY+1, checks it (a
 * header outside the ring or with a bad length re-initialises the card: rx_errors), reads the frame
 * by remote DMA (`rep insw`, wrapping at PSTOP in the card) and moves BNRY.
 *
 * Modes (cmdline ne2k.mode=polled|irq, default polled): polled waits read ISR; irq unmasks PRX,
 * PTX, RXE, TXE, OVW and RDC on IRQ 9 through <pvkvm/isa.h> (PIC or IOAPIC, isa.irq=), whose
 * handler only reads and acknowledges ISR (page 0 is always selected outside the driver's own
 * interrupts-off sequences) and a wait sleeps in isa_idle() until it ran.
 */
#ifndef PVKVM_NE2000_H
#define PVKVM_NE2000_H
#include <stdint.h>

#define NE2K_IOBASE 0x300
#define NE2K_IRQ 9

enum ne2k_mode { NE2K_POLLED = 0, NE2K_IRQ_MODE = 1 };

struct net_dev;

struct ne2k_stats {
  uint64_t irqs;       /* IRQ 9 handler runs */
  uint64_t overflows;  /* ISR.OVW seen */
  uint64_t reinits;    /* the card was re-initialised after a bad ring header or a timeout */
  uint64_t isr_reads;  /* ISR reads by the driver (polls), for exits-per-packet accounting */
};

/* Probe the card at NE2K_IOBASE: 1 when one answers, 0 otherwise (cheap, as Linux ne_probe1). */
int ne2k_probe(void);
/* Reset and configure the card; a second open returns the same device. 0 or -errno. */
int ne2k_open(enum ne2k_mode mode, struct net_dev **out);
const struct ne2k_stats *ne2k_get_stats(void);

extern const struct net_driver ne2k_net_driver;

#endif
