// devices-ne2000.test.ts: the NE2000 model from the DP8390 datasheet — register pages, remote DMA, PROM, transmit, receive ring, filters, overflow, IRQ, hostile values.
import t from 'tap';
import { Ne2000, type NicLink } from '../hypervisor/devices/ne2000/ne2000.ts';
import { NE2K_ISA, P0, P1, CR, ISR, RCR, DCR, TSR, RSR, PORT, TCR } from '../hypervisor/devices/ne2000/regs.ts';
import { etherCrc, multicastIndex } from '../hypervisor/devices/ne2000/crc.ts';
import { RecordingIrqLine } from '../hypervisor/devices/irq-line.ts';

const B = NE2K_ISA.base;
const MAC = Uint8Array.from([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const PSTART = 0x46;
const PSTOP = 0x80;

function rig() {
  const irq = new RecordingIrqLine();
  const sent: Uint8Array[] = [];
  const wire: Uint8Array[] = [];
  const link: NicLink = { send: (f) => sent.push(f), take: () => wire.shift() ?? null };
  const nic = new Ne2000(irq, MAC, link);
  const rd = (r: number): number => nic.read(B + r, 1);
  const wr = (r: number, v: number): void => nic.write(B + r, 1, v);
  const page = (p: number): void => wr(P0.CR, (rd(P0.CR) & 0x3f) | (p << 6));
  const dma = (addr: number, count: number, cmd: number): void => {
    wr(P0.RSAR0, addr & 0xff); wr(P0.RSAR1, addr >> 8);
    wr(P0.RBCR0, count & 0xff); wr(P0.RBCR1, count >> 8);
    wr(P0.CR, CR.STA | cmd);
  };
  /** Linux's NS8390_init order: DCR word mode, ring, PAR, CURR, then start with AB. */
  const init = (rcr: number = RCR.AB): void => {
    wr(P0.CR, CR.STP | CR.RD2);
    wr(P0.DCR, DCR.WTS | DCR.LS | DCR.FT1);
    wr(P0.PSTART, PSTART); wr(P0.PSTOP, PSTOP); wr(P0.BNRY, PSTOP - 1); wr(P0.TPSR, 0x40);
    wr(P0.ISR, 0xff); wr(P0.IMR, 0x7f);
    page(1);
    for (let i = 0; i < 6; i++) wr(P1.PAR0 + i, MAC[i]!);
    wr(P1.CURR, PSTART);
    page(0);
    wr(P0.RCR, rcr); wr(P0.TCR, 0);
    wr(P0.CR, CR.STA | CR.RD2);
  };
  const readMem = (addr: number, n: number): number[] => {
    dma(addr, n, 0x08);
    const out: number[] = [];
    for (let i = 0; i < n; i += 2) {
      const w = nic.read(B + PORT.DATA, 2);
      out.push(w & 0xff, w >> 8);
    }
    return out.slice(0, n);
  };
  const writeMem = (addr: number, bytes: number[]): void => {
    dma(addr, bytes.length, 0x10);
    for (let i = 0; i < bytes.length; i += 2) nic.write(B + PORT.DATA, 2, bytes[i]! | ((bytes[i + 1] ?? 0) << 8));
  };
  return { nic, irq, sent, wire, rd, wr, page, dma, init, readMem, writeMem };
}

const frame = (dst: number[], len: number, fill = 0xab): Uint8Array => {
  const f = new Uint8Array(len).fill(fill);
  f.set(dst, 0);
  f.set(Array.from(Uint8Array.from([2, 0, 0, 0, 0, 9])), 6);
  return f;
};

t.test('power-on and reset port: stopped, RST, no interrupt', async (t) => {
  const { rd, wr, nic, irq } = rig();
  t.equal(rd(P0.CR), CR.STP | CR.RD2);
  t.equal(rd(P0.ISR), ISR.RST);
  t.equal(irq.level, false);
  wr(P0.CR, CR.STA | CR.RD2);
  t.equal(rd(P0.ISR) & ISR.RST, 0, 'START clears RST');
  wr(P0.IMR, 0x7f);
  t.equal(nic.read(B + PORT.RESET, 1), 0, 'reading the reset port');
  t.equal(rd(P0.CR), CR.STP | CR.RD2, 'reset stops the card');
  t.equal(rd(P0.ISR), ISR.RST);
  nic.write(B + 0x1f, 1, 0);
  t.equal(irq.level, false, 'reset masks every source');
});

t.test('PROM: station address doubled, word-wide signature, in word and byte mode', async (t) => {
  const { wr, readMem, dma, nic } = rig();
  wr(P0.DCR, DCR.WTS);
  const prom = readMem(0, 32);
  t.same(prom.slice(0, 12), [...MAC].flatMap((b) => [b, b]));
  t.same(prom.slice(28, 32), [0x57, 0x57, 0x57, 0x57]);
  wr(P0.DCR, 0);
  dma(0, 4, 0x08);
  t.same([0, 1, 2, 3].map(() => nic.read(B + PORT.DATA, 1)), [0x52, 0x52, 0x54, 0x54]);
});

t.test('remote DMA: write then read the buffer; CRDA, RBCR and RDC', async (t) => {
  const { rd, wr, writeMem, readMem, dma, nic, irq } = rig();
  wr(P0.DCR, DCR.WTS);
  wr(P0.IMR, ISR.RDC);
  const data = Array.from({ length: 64 }, (_, i) => (i * 7) & 0xff);
  writeMem(0x4000, data);
  t.equal(rd(P0.ISR) & ISR.RDC, ISR.RDC, 'RDC once RBCR reaches zero');
  t.equal(irq.level, true, 'RDC unmasked raises the line');
  t.equal(rd(P0.CRDA0) | (rd(P0.CRDA1) << 8), 0x4040, 'CRDA after the transfer');
  wr(P0.ISR, ISR.RDC);
  t.equal(irq.level, false, 'writing 1 clears it');
  t.same(readMem(0x4000, 64), data);
  // Byte mode from an odd address.
  wr(P0.DCR, 0);
  dma(0x4003, 3, 0x08);
  t.same([1, 2, 3].map(() => nic.read(B + PORT.DATA, 1)), data.slice(3, 6));
  // A zero-length remote DMA completes at once.
  wr(P0.ISR, 0xff);
  dma(0x4000, 0, 0x08);
  t.equal(rd(P0.ISR) & ISR.RDC, ISR.RDC);
  // Outside the buffer: writes vanish, reads float.
  wr(P0.DCR, DCR.WTS);
  writeMem(0xc000, [1, 2]);
  t.same(readMem(0xc000, 2), [0xff, 0xff]);
  t.same(readMem(0x2000, 2), [0x52, 0x52], 'the PROM repeats below the buffer');
});

t.test('transmit: TPSR/TBCR frame goes to the link; PTX, TSR; hostile counts abort', async (t) => {
  const { rd, wr, init, writeMem, sent, irq } = rig();
  init();
  const f = [...frame(BCAST, 60)];
  writeMem(0x4000, f);
  wr(P0.ISR, 0xff);
  wr(P0.TBCR0, 60); wr(P0.TBCR1, 0);
  wr(P0.CR, CR.STA | CR.TXP | CR.RD2);
  t.equal(sent.length, 1);
  t.same([...sent[0]!], f);
  t.equal(rd(P0.TSR), TSR.PTX);
  t.equal(rd(P0.ISR) & ISR.PTX, ISR.PTX);
  t.equal(irq.level, true);
  t.equal(rd(P0.CR) & CR.TXP, 0, 'TXP clears when done');
  wr(P0.ISR, 0xff);
  for (const [tpsr, count] of [[0x7f, 1514], [0x00, 60], [0x40, 0xffff], [0x40, 3], [0xff, 60]] as const) {
    wr(P0.TPSR, tpsr); wr(P0.TBCR0, count & 0xff); wr(P0.TBCR1, count >> 8);
    wr(P0.CR, CR.STA | CR.TXP | CR.RD2);
    t.equal(rd(P0.TSR), TSR.ABT, `TPSR ${tpsr.toString(16)} count ${count}: aborted`);
    t.equal(rd(P0.ISR) & ISR.TXE, ISR.TXE);
    wr(P0.ISR, 0xff);
  }
  t.equal(sent.length, 1, 'nothing hostile left the card');
  wr(P0.CR, CR.STP | CR.TXP);
  t.equal(sent.length, 1, 'a stopped card does not transmit');
});

t.test('loopback transmit lands in our own ring', async (t) => {
  const { wr, init, writeMem, sent, nic } = rig();
  init(RCR.AB);
  wr(P0.TCR, TCR.LB0);
  writeMem(0x4000, [...frame(BCAST, 64)]);
  wr(P0.TBCR0, 64); wr(P0.TBCR1, 0); wr(P0.TPSR, 0x40);
  wr(P0.CR, CR.STA | CR.TXP | CR.RD2);
  t.equal(sent.length, 0);
  t.equal(nic.stats.rx, 1);
});

t.test('receive: header, data, CURR, PRX/RSR; the driver loop over BNRY', async (t) => {
  const { rd, wr, page, init, readMem, nic, irq } = rig();
  init();
  const f = frame([...MAC], 100, 0x11);
  nic.receive(f);
  t.equal(rd(P0.ISR) & ISR.PRX, ISR.PRX);
  t.equal(irq.level, true);
  t.equal(rd(P0.RSR), RSR.PRX);
  const hdr = readMem(PSTART << 8, 4);
  t.equal(hdr[0], RSR.PRX, 'status');
  t.equal(hdr[1], PSTART + 1, 'next page: 100+4+4 bytes fit one page');
  t.equal(hdr[2]! | (hdr[3]! << 8), 104, 'count includes the header');
  t.same(readMem((PSTART << 8) + 4, 100), [...f]);
  page(1);
  t.equal(rd(P1.CURR), PSTART + 1);
  page(0);
  // A short frame is padded to 60; a broadcast sets RSR.PHY.
  nic.receive(frame(BCAST, 20));
  const h2 = readMem((PSTART + 1) << 8, 4);
  t.equal(h2[0], RSR.PRX | RSR.PHY);
  t.equal(h2[2], 64);
  wr(P0.ISR, ISR.PRX | ISR.RDC);
  t.equal(irq.level, false, 'acknowledged');
});

t.test('receive ring wraps at PSTOP to PSTART', async (t) => {
  const { wr, page, init, readMem, nic } = rig();
  init();
  // Put CURR two pages before PSTOP and BNRY just behind it.
  wr(P0.CR, CR.STA | (1 << 6)); wr(P1.CURR, PSTOP - 2); page(0);
  wr(P0.BNRY, PSTOP - 3);
  const f = frame([...MAC], 1000, 0);
  for (let i = 14; i < 1000; i++) f[i] = i & 0xff;
  nic.receive(f);
  const hdr = readMem((PSTOP - 2) << 8, 4);
  t.equal(hdr[1], PSTART + 2, 'next page wrapped');
  const first = 512 - 4;
  const a = readMem(((PSTOP - 2) << 8) + 4, first);
  const b = readMem(PSTART << 8, 1000 - first);
  t.same([...a, ...b], [...f]);
});

t.test('accept filters: physical, broadcast (AB), multicast hash (AM), promiscuous (PRO)', async (t) => {
  const { wr, page, init, nic } = rig();
  const mcast = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01];
  const idx = multicastIndex(Uint8Array.from(mcast));
  const count = (rcr: number, dst: number[], mar = false): number => {
    init(rcr);
    page(1);
    for (let i = 0; i < 8; i++) wr(P1.MAR0 + i, 0);
    if (mar) wr(P1.MAR0 + (idx >> 3), 1 << (idx & 7));
    page(0);
    const before = nic.stats.rx;
    nic.receive(frame(dst, 64));
    return nic.stats.rx - before;
  };
  t.equal(count(0, [...MAC]), 1, 'own address always');
  t.equal(count(0, [0x52, 0x54, 0, 0x12, 0x34, 0x57]), 0, 'another station');
  t.equal(count(0, BCAST), 0, 'broadcast without AB');
  t.equal(count(RCR.AB, BCAST), 1, 'broadcast with AB');
  t.equal(count(RCR.AM, mcast), 0, 'multicast with AM but hash bit clear');
  t.equal(count(RCR.AM, mcast, true), 1, 'multicast with AM and its hash bit');
  t.equal(count(0, mcast, true), 0, 'multicast without AM');
  t.equal(count(RCR.PRO, [0x52, 0x54, 0, 1, 2, 3]), 1, 'promiscuous');
  // Known values: the hash of the all-hosts group and the broadcast address (Linux ether_crc >> 26).
  t.equal(etherCrc(Uint8Array.from(BCAST)) >>> 26, 0x3f);
  t.equal(idx, multicastIndex(Uint8Array.from(mcast)));
});

t.test('overflow: OVW, missed-packet tally (cleared on read), nothing overwritten', async (t) => {
  const { rd, wr, init, nic, wire } = rig();
  init();
  wr(P0.BNRY, PSTART); // the driver has read nothing: CURR catches BNRY after the ring fills
  let n = 0;
  for (; n < 200 && !(rd(P0.ISR) & ISR.OVW); n++) nic.receive(frame([...MAC], 1514));
  t.ok(rd(P0.ISR) & ISR.OVW, 'overflow signalled');
  t.ok(n > 1 && n < 20, `ring took ${n - 1} full frames`);
  t.equal(rd(P0.CNTR2), 1, 'one missed');
  t.equal(rd(P0.CNTR2), 0, 'tally clears on read');
  // The pull path does not take from the wire while a full frame would not fit.
  wire.push(frame([...MAC], 60));
  nic.poll();
  t.equal(wire.length, 1, 'the frame waits on the wire');
  wr(P0.BNRY, rd(P0.CLDA1) - 1 < PSTART ? PSTOP - 1 : rd(P0.CLDA1) - 1); // driver drained everything
  nic.poll();
  t.equal(wire.length, 0, 'taken once there is room');
});

t.test('stopped or unconfigured ring: nothing received, nothing pulled', async (t) => {
  const { wr, nic, wire, init } = rig();
  nic.receive(frame([...MAC], 64));
  t.equal(nic.stats.rx, 0);
  init();
  wr(P0.CR, CR.STP);
  wire.push(frame([...MAC], 64));
  nic.poll();
  t.equal(wire.length, 1);
  wr(P0.CR, CR.STA);
  wr(P0.PSTOP, 0x20); // below PSTART: no ring
  nic.poll();
  t.equal(wire.length, 1);
  nic.receive(frame([...MAC], 64));
  t.equal(nic.stats.rx, 0);
});

t.test('page 1 and 2 registers read back; IMR masks the line', async (t) => {
  const { rd, wr, page, irq } = rig();
  page(1);
  for (let i = 0; i < 8; i++) wr(P1.MAR0 + i, 0x10 + i);
  wr(P1.CURR, 0x55);
  t.same([0, 1, 2, 3, 4, 5, 6, 7].map((i) => rd(P1.MAR0 + i)), [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17]);
  t.equal(rd(P1.CURR), 0x55);
  page(0);
  wr(P0.PSTART, 0x46); wr(P0.PSTOP, 0x80); wr(P0.TPSR, 0x40); wr(P0.RCR, RCR.AB); wr(P0.IMR, 0x11);
  page(2);
  t.equal(rd(0x01), 0x46); t.equal(rd(0x02), 0x80); t.equal(rd(0x04), 0x40);
  t.equal(rd(0x0c) & 0x3f, RCR.AB); t.equal(rd(0x0f) & 0x7f, 0x11);
  page(0);
  wr(P0.IMR, 0);
  wr(P0.CR, CR.STA | CR.RD0); // zero-length remote read: RDC
  t.equal(irq.level, false, 'masked');
  wr(P0.IMR, ISR.RDC);
  t.equal(irq.level, true, 'unmasking a pending source raises the line');
});

t.test('hostile register values never throw and never escape the card buffer', async (t) => {
  const { nic, sent } = rig();
  let seed = 12345;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  for (let i = 0; i < 200000; i++) {
    const port = B + rnd(0x20);
    const size = [1, 2, 4][rnd(3)]!;
    if (rnd(2) === 0) nic.write(port, size, rnd(0x100000000));
    else nic.read(port, size);
    if (rnd(50) === 0) nic.receive(frame(rnd(2) ? [...MAC] : BCAST, 14 + rnd(1600)));
  }
  t.equal(nic.mem.buf.length, 0x4000);
  for (const f of sent) t.ok(f.length >= 14 && f.length <= 1518);
});
