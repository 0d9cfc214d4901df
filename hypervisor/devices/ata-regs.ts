// ata-regs.ts: ATA register addresses, status/error bits and command codes (ATA/ATAPI-6 names).
export const PRIMARY = { base: 0x1f0, length: 8, control: 0x3f6, irq: 14 } as const;

/** Offsets from the command block base. */
export const REG = { DATA: 0, ERROR_FEATURE: 1, COUNT: 2, LBA_LOW: 3, LBA_MID: 4, LBA_HIGH: 5, DEVICE: 6, STATUS_COMMAND: 7 } as const;

export const ST = { ERR: 0x01, IDX: 0x02, CORR: 0x04, DRQ: 0x08, DSC: 0x10, DF: 0x20, DRDY: 0x40, BSY: 0x80 } as const;
export const ERR = { AMNF: 0x01, ABRT: 0x04, MCR: 0x08, IDNF: 0x10, MC: 0x20, UNC: 0x40 } as const;
/** Device control register (0x3F6 writes). */
export const CTL = { NIEN: 0x02, SRST: 0x04, HOB: 0x80 } as const;
/** Device register bits. */
export const DEV = { DEV1: 0x10, LBA: 0x40 } as const;

export const CMD = {
  READ_SECTORS: 0x20, READ_SECTORS_NORETRY: 0x21, READ_SECTORS_EXT: 0x24, READ_MULTIPLE_EXT: 0x29,
  WRITE_SECTORS: 0x30, WRITE_SECTORS_NORETRY: 0x31, WRITE_SECTORS_EXT: 0x34, WRITE_MULTIPLE_EXT: 0x39,
  READ_VERIFY: 0x40, READ_VERIFY_NORETRY: 0x41, READ_VERIFY_EXT: 0x42,
  EXECUTE_DIAGNOSTIC: 0x90, INITIALIZE_PARAMS: 0x91,
  READ_MULTIPLE: 0xc4, WRITE_MULTIPLE: 0xc5, SET_MULTIPLE: 0xc6,
  STANDBY_IMMEDIATE: 0xe0, IDLE_IMMEDIATE: 0xe1, CHECK_POWER_MODE: 0xe5,
  FLUSH_CACHE: 0xe7, IDENTIFY: 0xec, FLUSH_CACHE_EXT: 0xea, SET_FEATURES: 0xef,
} as const;

/** Largest DRQ block READ/WRITE MULTIPLE accepts (IDENTIFY word 47; QEMU's MAX_MULT_SECTORS). */
export const MAX_MULTIPLE = 16;
