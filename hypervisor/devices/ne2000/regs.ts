// regs.ts: NE2000/DP8390 register offsets, bits and card memory layout (National DP8390D datasheet names).
/** QEMU's `ne2k_isa` defaults: 32 ports (registers, data port, reset port) at 0x300, IRQ 9. */
export const NE2K_ISA = { base: 0x300, length: 0x20, irq: 9 } as const;

/** Offsets from the I/O base. 0x10–0x17 decode as the data port, 0x18–0x1f as the reset port. */
export const PORT = { DATA: 0x10, RESET: 0x18, END: 0x20 } as const;

/** Page 0 (CR.PS = 0) register offsets. */
export const P0 = {
  CR: 0x00, PSTART: 0x01, PSTOP: 0x02, BNRY: 0x03, TPSR: 0x04, TBCR0: 0x05, TBCR1: 0x06, ISR: 0x07,
  RSAR0: 0x08, RSAR1: 0x09, RBCR0: 0x0a, RBCR1: 0x0b, RCR: 0x0c, TCR: 0x0d, DCR: 0x0e, IMR: 0x0f,
  // Read-side names of the same offsets.
  CLDA0: 0x01, CLDA1: 0x02, TSR: 0x04, NCR: 0x05, FIFO: 0x06, CRDA0: 0x08, CRDA1: 0x09, RSR: 0x0c,
  CNTR0: 0x0d, CNTR1: 0x0e, CNTR2: 0x0f,
} as const;
/** Page 1: the physical address, current page and multicast filter. */
export const P1 = { PAR0: 0x01, CURR: 0x07, MAR0: 0x08 } as const;

export const CR = { STP: 0x01, STA: 0x02, TXP: 0x04, RD0: 0x08, RD1: 0x10, RD2: 0x20, PS0: 0x40, PS1: 0x80 } as const;
/** CR.RD field (bits 5:3): remote read, remote write, send packet, abort/complete. */
export const RD = { MASK: 0x38, READ: 0x08, WRITE: 0x10, SEND: 0x18, ABORT: 0x20 } as const;
export const ISR = { PRX: 0x01, PTX: 0x02, RXE: 0x04, TXE: 0x08, OVW: 0x10, CNT: 0x20, RDC: 0x40, RST: 0x80 } as const;
export const RCR = { SEP: 0x01, AR: 0x02, AB: 0x04, AM: 0x08, PRO: 0x10, MON: 0x20 } as const;
export const TCR = { CRC: 0x01, LB0: 0x02, LB1: 0x04, ATD: 0x08, OFST: 0x10 } as const;
export const DCR = { WTS: 0x01, BOS: 0x02, LAS: 0x04, LS: 0x08, ARM: 0x10, FT0: 0x20, FT1: 0x40 } as const;
export const TSR = { PTX: 0x01, COL: 0x04, ABT: 0x08, CRS: 0x10, FU: 0x20, CDH: 0x40, OWC: 0x80 } as const;
export const RSR = { PRX: 0x01, CRC: 0x02, FAE: 0x04, FO: 0x08, MPA: 0x10, PHY: 0x20, DIS: 0x40, DFR: 0x80 } as const;

/** The NE2000's 16 KiB packet buffer at card addresses 0x4000–0x7fff (pages 0x40–0x7f). */
export const MEM = { START: 0x4000, END: 0x8000, SIZE: 0x4000 } as const;
/** The station-address PROM: 32 bytes at card address 0, each byte doubled (word-wide card). */
export const PROM_SIZE = 32;
export const PAGE = 256;
/** The receive header the NIC writes before each frame: status, next page, byte count (LE). */
export const RX_HDR = 4;
/** Largest frame (without FCS) the model transmits or accepts; shorter than 60 is padded on receive. */
export const MAX_FRAME = 1514;
export const MIN_FRAME = 60;
