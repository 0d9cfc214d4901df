// devices-ata.test.ts: the ATA PIO disk from ATA/ATAPI-6 — IDENTIFY, 28/48-bit and MULTIPLE transfers against the image, errors, nIEN, SRST, INTRQ acknowledge, device 1.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, openSync, closeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AtaChannel } from '../hypervisor/devices/ata-channel.ts';
import { SectorStore } from '../hypervisor/devices/sector-store.ts';
import { RecordingIrqLine } from '../hypervisor/devices/irq-line.ts';
import { ST, ERR, CMD, CTL, DEV, MAX_MULTIPLE, PRIMARY } from '../hypervisor/devices/ata-regs.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvkvm-ata-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const P = { DATA: 0x1f0, ERR: 0x1f1, FEAT: 0x1f1, COUNT: 0x1f2, LBAL: 0x1f3, LBAM: 0x1f4, LBAH: 0x1f5, DEV: 0x1f6, STATUS: 0x1f7, CMD: 0x1f7, ALT: 0x3f6, CTL: 0x3f6 };
const SECTORS = 2048;

function rig(t: Test, opts: { readonly?: boolean; sectors?: number; sparse?: number; slave?: boolean } = {}) {
  const path = join(dir, `d${Math.random().toString(36).slice(2)}.img`);
  let data: Buffer;
  if (opts.sparse !== undefined) {
    writeFileSync(path, '');
    ftruncateSync(openSync(path, 'r+'), opts.sparse * 512);
    data = Buffer.alloc(0);
  } else {
    data = randomBytes((opts.sectors ?? SECTORS) * 512);
    writeFileSync(path, data);
  }
  const fd = openSync(path, opts.readonly === true ? 'r' : 'r+');
  const store = new SectorStore(fd, opts.readonly === true, MAX_MULTIPLE);
  const irq = new RecordingIrqLine();
  const identity = { serial: 'SN-TEST-0001', model: 'PVKVM HARDDISK', firmware: '0.1.0' };
  const specs = opts.slave === true ? [{ store, identity }, { store, identity }] : [{ store, identity }];
  const ata = new AtaChannel(irq, specs);
  t.teardown(() => { store.close(); closeSync(fd); });
  const rd = (p: number): number => (p === P.CTL ? ata.control.read(p, 1) : ata.read(p, 1));
  const wr = (p: number, v: number): void => (p === P.CTL ? ata.control.write(p, 1, v) : ata.write(p, 1, v));
  const words = (n: number): Buffer => {
    const b = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) b.writeUInt16LE(ata.read(P.DATA, 2), i * 2);
    return b;
  };
  const put = (b: Buffer): void => { for (let i = 0; i < b.length; i += 2) ata.write(P.DATA, 2, b.readUInt16LE(i)); };
  /** Task file for a 28-bit LBA command on device 0. */
  const lba28 = (lba: number, count: number): void => {
    wr(P.COUNT, count & 0xff); wr(P.LBAL, lba & 0xff); wr(P.LBAM, (lba >> 8) & 0xff); wr(P.LBAH, (lba >> 16) & 0xff);
    wr(P.DEV, 0xe0 | ((lba >> 24) & 0x0f));
  };
  /** 48-bit: high halves first, then low halves (each register is a two-deep FIFO). */
  const lba48 = (lba: number, count: number): void => {
    const hi = Math.floor(lba / 2 ** 24);
    wr(P.COUNT, count >> 8); wr(P.LBAL, hi & 0xff); wr(P.LBAM, (hi >> 8) & 0xff); wr(P.LBAH, (hi >> 16) & 0xff);
    wr(P.COUNT, count & 0xff); wr(P.LBAL, lba & 0xff); wr(P.LBAM, (lba >> 8) & 0xff); wr(P.LBAH, (lba >> 16) & 0xff);
    wr(P.DEV, 0x40);
  };
  const file = (): Buffer => readFileSync(path);
  return { ata, irq, store, path, data, rd, wr, words, put, lba28, lba48, file };
}

t.test('power-on: ready, signature, no interrupt', async (t) => {
  const { rd, irq } = rig(t);
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  t.equal(rd(P.ERR), 0x01, 'diagnostic passed');
  t.same([rd(P.COUNT), rd(P.LBAL), rd(P.LBAM), rd(P.LBAH), rd(P.DEV)], [1, 1, 0, 0, 0], 'ATA signature');
  t.equal(irq.level, false);
});

t.test('IDENTIFY DEVICE: one data-in block with the identify words', async (t) => {
  const { rd, wr, words, irq } = rig(t);
  wr(P.DEV, 0xa0);
  wr(P.CMD, CMD.IDENTIFY);
  t.ok(irq.level, 'INTRQ when the block is ready');
  t.equal(rd(P.ALT), ST.DRDY | ST.DSC | ST.DRQ);
  const id = words(256);
  const w = (i: number): number => id.readUInt16LE(i * 2);
  const str = (from: number, n: number): string => {
    let s = '';
    for (let i = from; i < from + n; i++) s += String.fromCharCode(w(i) >> 8, w(i) & 0xff);
    return s;
  };
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC, 'DRQ drops after 256 words');
  t.equal(w(0), 0x0040, 'fixed ATA disk');
  t.equal(str(27, 20), 'PVKVM HARDDISK'.padEnd(40), 'model, byte-swapped per word');
  t.equal(str(10, 10), 'SN-TEST-0001'.padEnd(20), 'serial');
  t.equal(str(23, 4), '0.1.0'.padEnd(8), 'firmware');
  t.equal(w(1) * w(3) * w(6) <= SECTORS, true, 'CHS geometry within the disk');
  t.equal(w(3), 16);
  t.equal(w(6), 63);
  t.equal(w(47), 0x8000 | MAX_MULTIPLE, 'READ/WRITE MULTIPLE up to 16 sectors');
  t.ok(w(49) & (1 << 9), 'LBA supported');
  t.equal(w(49) & (1 << 8), 0, 'no DMA');
  t.equal(w(59), 0, 'multiple mode off until SET MULTIPLE');
  t.equal(w(60) | (w(61) << 16), SECTORS, 'LBA28 capacity');
  t.ok(w(83) & (1 << 10), '48-bit supported');
  t.ok(w(86) & (1 << 10), '48-bit enabled');
  t.ok(w(83) & (1 << 12) && w(83) & (1 << 13), 'FLUSH CACHE and FLUSH CACHE EXT');
  t.equal(w(83) >> 14, 1, 'word 83 valid');
  t.equal(w(100) + w(101) * 65536 + w(102) * 2 ** 32 + w(103) * 2 ** 48, SECTORS, 'LBA48 capacity');
  t.equal(id[510], 0xa5, 'integrity signature');
  t.equal(id.reduce((a, b) => a + b, 0) & 0xff, 0, 'integrity checksum');
});

t.test('READ SECTORS (28-bit): one interrupt per sector, data from the image', async (t) => {
  const { rd, words, lba28, wr, irq, data } = rig(t);
  lba28(100, 3);
  wr(P.CMD, CMD.READ_SECTORS);
  const got: Buffer[] = [];
  for (let s = 0; s < 3; s++) {
    t.ok(irq.level, `INTRQ for sector ${s}`);
    t.equal(rd(P.STATUS), ST.DRDY | ST.DSC | ST.DRQ, 'status read acknowledges');
    t.notOk(irq.level);
    got.push(words(256));
  }
  t.notOk(irq.level, 'no interrupt after the last data-in block');
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  t.same(Buffer.concat(got), data.subarray(100 * 512, 103 * 512));
});

t.test('WRITE SECTORS (28-bit): DRQ first without interrupt, interrupt after each sector, data in the file', async (t) => {
  const { rd, put, lba28, wr, irq, file } = rig(t);
  const payload = randomBytes(2 * 512);
  lba28(0x123, 2);
  wr(P.CMD, CMD.WRITE_SECTORS);
  t.notOk(irq.level, 'no interrupt before the first block');
  t.equal(rd(P.ALT), ST.DRDY | ST.DSC | ST.DRQ);
  put(payload.subarray(0, 512));
  t.ok(irq.level, 'interrupt: next block wanted');
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC | ST.DRQ);
  put(payload.subarray(512));
  t.ok(irq.level, 'interrupt: command complete');
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  t.same(file().subarray(0x123 * 512, 0x125 * 512), payload);
});

t.test('32-bit data port access moves two words; byte access floats', async (t) => {
  const { ata, lba28, wr, data } = rig(t);
  lba28(5, 1);
  wr(P.CMD, CMD.READ_SECTORS);
  t.equal(ata.read(P.DATA, 1), 0xff, 'byte read of the data port');
  const b = Buffer.alloc(512);
  for (let i = 0; i < 128; i++) b.writeUInt32LE(ata.read(P.DATA, 4), i * 4);
  t.same(b, data.subarray(5 * 512, 6 * 512));
});

t.test('count 0 means 256 sectors (28-bit)', async (t) => {
  const { rd, lba28, wr, words, data } = rig(t);
  lba28(1000, 0);
  wr(P.CMD, CMD.READ_SECTORS);
  const got: Buffer[] = [];
  for (let s = 0; s < 256; s++) {
    rd(P.STATUS);
    got.push(words(256));
  }
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  t.same(Buffer.concat(got), data.subarray(1000 * 512, 1256 * 512));
});

t.test('CHS addressing when the LBA bit is clear', async (t) => {
  const { rd, wr, words, data } = rig(t);
  // cylinder 1, head 2, sector 3 → ((1*16)+2)*63 + 2
  wr(P.COUNT, 1); wr(P.LBAL, 3); wr(P.LBAM, 1); wr(P.LBAH, 0); wr(P.DEV, 0xa0 | 2);
  wr(P.CMD, CMD.READ_SECTORS);
  rd(P.STATUS);
  t.same(words(256), data.subarray(1136 * 512, 1137 * 512));
});

t.test('READ/WRITE SECTORS EXT with the HOB register pairs', async (t) => {
  const { rd, lba48, wr, words, put, file, ata } = rig(t);
  const payload = randomBytes(300 * 512);
  lba48(1500, 300); // count 300 needs the high count byte
  wr(P.CMD, CMD.WRITE_SECTORS_EXT);
  for (let s = 0; s < 300; s++) {
    t.equal(rd(P.ALT) & ST.DRQ, ST.DRQ);
    put(payload.subarray(s * 512, (s + 1) * 512));
    rd(P.STATUS);
  }
  t.equal(rd(P.ALT), ST.DRDY | ST.DSC);
  t.same(file().subarray(1500 * 512, 1800 * 512), payload);
  lba48(1500, 300);
  // HOB reads the previous halves back.
  wr(P.CTL, CTL.HOB);
  t.same([rd(P.COUNT), rd(P.LBAL), rd(P.LBAM), rd(P.LBAH)], [1, 0, 0, 0], 'HOB=1: high halves');
  wr(P.CTL, 0);
  t.same([rd(P.COUNT), rd(P.LBAL), rd(P.LBAM)], [300 & 0xff, 1500 & 0xff, 1500 >> 8], 'HOB=0: low halves');
  wr(P.CMD, CMD.READ_SECTORS_EXT);
  const got: Buffer[] = [];
  for (let s = 0; s < 300; s++) {
    rd(P.STATUS);
    got.push(words(256));
  }
  t.same(Buffer.concat(got), payload);
  t.equal(ata.irqAsserted, false);
});

t.test('48-bit addresses above 2^28 reach the image (sparse 129 GiB)', async (t) => {
  const big = 2 ** 28 + 4096;
  let r: ReturnType<typeof rig>;
  try {
    r = rig(t, { sparse: big });
  } catch (err) {
    t.pass(`skipped: cannot make a sparse image here (${(err as Error).message})`);
    return;
  }
  const { rd, wr, lba48, lba28, put, words, path } = r;
  const lba = 2 ** 28 + 7;
  const payload = randomBytes(512);
  lba48(lba, 1);
  wr(P.CMD, CMD.WRITE_SECTORS_EXT);
  put(payload);
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  const fd = openSync(path, 'r');
  const back = Buffer.alloc(512);
  (await import('node:fs')).readSync(fd, back, 0, 512, lba * 512);
  closeSync(fd);
  t.same(back, payload, 'written at lba * 512');
  lba48(lba, 1);
  wr(P.CMD, CMD.READ_SECTORS_EXT);
  rd(P.STATUS);
  t.same(words(256), payload);
  lba28(0x0fffffff, 1);
  wr(P.CMD, CMD.READ_SECTORS);
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC | ST.DRQ, 'the last 28-bit sector is addressable');
});

t.test('SET MULTIPLE MODE and READ/WRITE MULTIPLE (and EXT): one interrupt per block', async (t) => {
  const { rd, wr, lba28, lba48, words, put, file, irq, ata } = rig(t);
  lba28(0, 4);
  wr(P.CMD, CMD.READ_MULTIPLE);
  t.equal(rd(P.STATUS), ST.DRDY | ST.ERR, 'READ MULTIPLE before SET MULTIPLE aborts');
  t.equal(rd(P.ERR), ERR.ABRT);
  for (const bad of [3, 6, 32, 255]) {
    wr(P.COUNT, bad);
    wr(P.CMD, CMD.SET_MULTIPLE);
    t.equal(rd(P.STATUS) & ST.ERR, ST.ERR, `SET MULTIPLE ${bad} aborts`);
    t.equal(rd(P.ERR), ERR.ABRT);
  }
  wr(P.COUNT, 4);
  wr(P.CMD, CMD.SET_MULTIPLE);
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  const id = Buffer.from(ata.drives[0]!.identify());
  t.equal(id.readUInt16LE(59 * 2), 0x0104, 'word 59: multiple valid, 4 sectors');
  const payload = randomBytes(10 * 512);
  lba28(50, 10);
  wr(P.CMD, CMD.WRITE_MULTIPLE);
  let interrupts = 0;
  let at = 0;
  for (const n of [4, 4, 2]) {
    t.equal(rd(P.ALT) & ST.DRQ, ST.DRQ, `DRQ for a ${n}-sector block`);
    const before = irq.raised;
    put(payload.subarray(at * 512, (at + n) * 512));
    at += n;
    interrupts += irq.raised - before;
    rd(P.STATUS);
  }
  t.equal(interrupts, 3, 'an interrupt per block (the last one: completion)');
  t.same(file().subarray(50 * 512, 60 * 512), payload);
  lba48(50, 10);
  wr(P.CMD, CMD.READ_MULTIPLE_EXT);
  const got: Buffer[] = [];
  for (const n of [4, 4, 2]) {
    t.ok(irq.level, 'block ready');
    rd(P.STATUS);
    got.push(words(256 * n));
  }
  t.notOk(irq.level);
  t.same(Buffer.concat(got), payload);
  wr(P.COUNT, 0);
  wr(P.CMD, CMD.SET_MULTIPLE);
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC, 'count 0 turns multiple mode off');
  lba28(0, 1);
  wr(P.CMD, CMD.WRITE_MULTIPLE);
  t.equal(rd(P.ERR), ERR.ABRT, 'and MULTIPLE commands abort again');
});

t.test('out-of-range LBA: ERR with IDNF, nothing transferred', async (t) => {
  const { rd, wr, lba28, lba48, file, data } = rig(t);
  lba28(SECTORS - 1, 2);
  wr(P.CMD, CMD.WRITE_SECTORS);
  t.equal(rd(P.STATUS), ST.DRDY | ST.ERR);
  t.equal(rd(P.ERR), ERR.IDNF);
  lba48(2 ** 30, 1);
  wr(P.CMD, CMD.READ_SECTORS_EXT);
  t.equal(rd(P.STATUS), ST.DRDY | ST.ERR);
  t.equal(rd(P.ERR), ERR.IDNF);
  lba28(SECTORS, 1);
  wr(P.CMD, CMD.READ_VERIFY);
  t.equal(rd(P.ERR), ERR.IDNF, 'READ VERIFY checks the range too');
  lba28(SECTORS - 1, 1);
  wr(P.CMD, CMD.READ_VERIFY);
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  wr(P.COUNT, 1); wr(P.LBAL, 0); wr(P.DEV, 0xa0);
  wr(P.CMD, CMD.READ_SECTORS);
  t.equal(rd(P.ERR), ERR.IDNF, 'CHS sector 0 does not exist');
  t.same(file(), data, 'image untouched');
});

t.test('bad commands abort; the next command works', async (t) => {
  const { rd, wr, irq } = rig(t);
  for (const cmd of [0x00, 0x08, 0xa0, 0xa1, 0xc8, 0xca, 0xff]) {
    wr(P.CMD, cmd);
    t.ok(irq.level, `0x${cmd.toString(16)}: completion interrupt`);
    t.equal(rd(P.STATUS), ST.DRDY | ST.ERR, `0x${cmd.toString(16)} aborted`);
    t.equal(rd(P.ERR), ERR.ABRT);
  }
  wr(P.FEAT, 0x03); wr(P.COUNT, 0x22); // SET FEATURES transfer mode MWDMA2: no DMA here
  wr(P.CMD, CMD.SET_FEATURES);
  t.equal(rd(P.ERR), ERR.ABRT);
  wr(P.FEAT, 0x03); wr(P.COUNT, 0x0c); // PIO 4
  wr(P.CMD, CMD.SET_FEATURES);
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  t.equal(rd(P.ERR), 0, 'error register cleared by a good command');
});

t.test('a command is ignored while DRQ is set', async (t) => {
  const { rd, wr, lba28, words, data } = rig(t);
  lba28(9, 1);
  wr(P.CMD, CMD.READ_SECTORS);
  wr(P.CMD, CMD.IDENTIFY);
  rd(P.STATUS);
  t.same(words(256), data.subarray(9 * 512, 10 * 512), 'still the READ data');
});

t.test('FLUSH CACHE and FLUSH CACHE EXT complete with an interrupt', async (t) => {
  const { rd, wr, irq } = rig(t);
  for (const cmd of [CMD.FLUSH_CACHE, CMD.FLUSH_CACHE_EXT]) {
    wr(P.CMD, cmd);
    t.ok(irq.level);
    t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  }
});

t.test('writes to a read-only image abort', async (t) => {
  const { rd, wr, lba28, file, data } = rig(t, { readonly: true });
  lba28(0, 1);
  wr(P.CMD, CMD.WRITE_SECTORS);
  t.equal(rd(P.STATUS), ST.DRDY | ST.ERR);
  t.equal(rd(P.ERR), ERR.ABRT);
  t.same(file(), data);
});

t.test('nIEN masks INTRQ; the interrupt stays pending until acknowledged', async (t) => {
  const { rd, wr, irq } = rig(t);
  wr(P.CTL, CTL.NIEN);
  wr(P.CMD, CMD.FLUSH_CACHE);
  t.notOk(irq.level, 'masked');
  t.equal(irq.raised, 0);
  wr(P.CTL, 0);
  t.ok(irq.level, 'unmasking shows the pending interrupt');
  wr(P.CTL, CTL.NIEN);
  t.notOk(irq.level);
  rd(P.STATUS);
  wr(P.CTL, 0);
  t.notOk(irq.level, 'the status read acknowledged it while masked');
});

t.test('status acknowledges the interrupt, alternate status does not', async (t) => {
  const { rd, wr, irq } = rig(t);
  wr(P.CMD, CMD.FLUSH_CACHE);
  t.equal(rd(P.ALT), ST.DRDY | ST.DSC);
  t.ok(irq.level, 'still asserted after an alternate-status read');
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  t.notOk(irq.level, 'dropped by the status read');
  wr(P.CMD, CMD.FLUSH_CACHE);
  const before = irq.raised;
  wr(P.CMD, CMD.FLUSH_CACHE);
  t.ok(irq.raised > before, 'writing a command clears the old interrupt (a fresh edge for the new one)');
});

t.test('SRST: BSY while held, signature after, no interrupt, multiple mode kept', async (t) => {
  const { rd, wr, lba28, irq, ata } = rig(t);
  wr(P.COUNT, 8);
  wr(P.CMD, CMD.SET_MULTIPLE);
  lba28(77, 3);
  wr(P.CMD, CMD.READ_SECTORS);
  t.ok(irq.level);
  wr(P.CTL, CTL.SRST);
  t.equal(rd(P.ALT), ST.BSY, 'busy during reset');
  t.notOk(irq.level, 'reset drops the interrupt');
  wr(P.CMD, CMD.IDENTIFY);
  t.equal(rd(P.ALT), ST.BSY, 'commands are ignored while busy');
  wr(P.CTL, 0);
  t.notOk(irq.level, 'no interrupt for the reset');
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC, 'transfer abandoned, ready');
  t.equal(rd(P.ERR), 0x01);
  t.same([rd(P.COUNT), rd(P.LBAL), rd(P.LBAM), rd(P.LBAH), rd(P.DEV)], [1, 1, 0, 0, 0]);
  t.equal(ata.drives[0]!.multiple, 8);
  wr(P.CMD, CMD.EXECUTE_DIAGNOSTIC);
  t.ok(irq.level, 'EXECUTE DEVICE DIAGNOSTIC interrupts');
  t.equal(rd(P.ERR), 0x01);
});

t.test('device 1 absent: status 0, shared registers echo, commands ignored', async (t) => {
  const { rd, wr, irq } = rig(t);
  wr(P.DEV, 0xb0);
  t.equal(rd(P.STATUS), 0);
  t.equal(rd(P.ALT), 0);
  t.equal(rd(P.ERR), 0);
  wr(P.COUNT, 0x55);
  wr(P.LBAL, 0xaa);
  t.same([rd(P.COUNT), rd(P.LBAL), rd(P.DEV)], [0x55, 0xaa, 0xb0], 'the task file is the channel\'s');
  wr(P.CMD, CMD.IDENTIFY);
  t.notOk(irq.level);
  t.equal(rd(P.STATUS), 0);
  wr(P.DEV, 0xa0);
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC, 'device 0 untouched');
});

t.test('device 1 present when configured', async (t) => {
  const { rd, wr, words } = rig(t, { slave: true });
  wr(P.DEV, 0xb0);
  t.equal(rd(P.STATUS), ST.DRDY | ST.DSC);
  wr(P.CMD, CMD.IDENTIFY);
  rd(P.STATUS);
  t.equal(words(256).readUInt16LE(0), 0x0040);
  t.equal(DEV.DEV1, 0x10);
});

t.test('wide accesses to byte registers split into byte cycles', async (t) => {
  const { ata } = rig(t);
  ata.write(P.COUNT, 2, 0x3412); // count=0x12, LBA low=0x34
  t.equal(ata.read(P.COUNT, 2), 0x3412);
  t.equal(ata.read(P.STATUS, 2), 0xff00 | ST.DRDY | ST.DSC, 'past the block floats');
  t.equal(ata.control.read(PRIMARY.control, 2), 0xff00 | ST.DRDY | ST.DSC);
});
