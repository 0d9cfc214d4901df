/* ne2000_regs.h: DP8390 register offsets and bits (National names, as Linux 8390.h) and the
 * driver's card layout, shared by the NE2000 driver's files. */
#ifndef NE2000_REGS_H
#define NE2000_REGS_H
#include <pvkvm/arch.h>
#include <pvkvm/ne2000.h>

#define NE_CR 0x00
#define NE_DATA 0x10
#define NE_RESET 0x1f
/* page 0 */
#define EN0_PSTART 0x01
#define EN0_PSTOP 0x02
#define EN0_BNRY 0x03
#define EN0_TPSR 0x04
#define EN0_TSR 0x04
#define EN0_TBCR0 0x05
#define EN0_TBCR1 0x06
#define EN0_ISR 0x07
#define EN0_RSAR0 0x08
#define EN0_RSAR1 0x09
#define EN0_RBCR0 0x0a
#define EN0_RBCR1 0x0b
#define EN0_RCR 0x0c
#define EN0_TCR 0x0d
#define EN0_DCR 0x0e
#define EN0_IMR 0x0f
#define EN0_CNTR0 0x0d
/* page 1 */
#define EN1_PAR0 0x01
#define EN1_CURR 0x07
#define EN1_MAR0 0x08

#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RREAD 0x08
#define CR_RWRITE 0x10
#define CR_NODMA 0x20
#define CR_PAGE1 0x40

#define ISR_PRX 0x01
#define ISR_PTX 0x02
#define ISR_RXE 0x04
#define ISR_TXE 0x08
#define ISR_OVW 0x10
#define ISR_CNT 0x20
#define ISR_RDC 0x40
#define ISR_RST 0x80

#define RCR_AB 0x04
#define RCR_MON 0x20
#define TCR_LOOPBACK 0x02
#define DCR_WORD 0x49 /* WTS | LS (normal operation) | FIFO threshold 8 bytes */

#define NE_TX_PAGE 0x40
#define NE_RX_START 0x46
#define NE_RX_STOP 0x80
#define NE_MAX_FRAME 1514
#define NE_MIN_FRAME 60

static inline void ne_out(unsigned reg, uint8_t v) { outb((uint16_t)(NE2K_IOBASE + reg), v); }
static inline uint8_t ne_in(unsigned reg) { return inb((uint16_t)(NE2K_IOBASE + reg)); }

#endif
