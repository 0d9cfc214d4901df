// card-memory.ts: the NE2000's on-card memory as the remote DMA sees it — the station PROM in low
// addresses and the 16 KiB packet buffer; every guest-chosen address is checked here.
import { MEM, PROM_SIZE } from './regs.ts';

export class CardMemory {
  /** Packet buffer, indexed from card address MEM.START. */
  readonly buf = new Uint8Array(MEM.SIZE);
  private readonly prom = new Uint8Array(PROM_SIZE);

  constructor(mac: Uint8Array) {
    // NE2000 PROM layout: bytes 0–5 the station address, 14–15 'W' 'W' (a word-wide card); the
    // 16-bit card presents each byte twice, which is what drivers (Linux ne.c, QEMU) expect.
    const raw = new Uint8Array(16);
    raw.set(mac.subarray(0, 6));
    raw[14] = raw[15] = 0x57;
    for (let i = 0; i < 16; i++) this.prom[2 * i] = this.prom[2 * i + 1] = raw[i]!;
  }

  /** Below the buffer the PROM repeats (its 5 address lines are the only ones decoded); above it floats. */
  readByte(addr: number): number {
    const a = addr & 0xffff;
    if (a < MEM.START) return this.prom[a % PROM_SIZE]!;
    if (a < MEM.END) return this.buf[a - MEM.START]!;
    return 0xff;
  }

  /** Writes outside the packet buffer go nowhere (the PROM is read-only). */
  writeByte(addr: number, v: number): void {
    const a = addr & 0xffff;
    if (a >= MEM.START && a < MEM.END) this.buf[a - MEM.START] = v & 0xff;
  }

  /** `len` bytes at card address `addr`, or null when any of them lies outside the buffer. */
  slice(addr: number, len: number): Uint8Array | null {
    if (addr < MEM.START || len < 0 || addr + len > MEM.END) return null;
    return this.buf.slice(addr - MEM.START, addr - MEM.START + len);
  }
}
