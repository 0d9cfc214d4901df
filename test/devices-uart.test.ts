// devices-uart.test.ts: the 16550A model from its datasheet — every register, FIFOs, IIR priorities, THRE rules, loopback, overrun, OUT2 gating.
import t from 'tap';
import { Uart16550, COM1, IER, IIR, FCR, LCR, MCR, LSR, MSR } from '../hypervisor/devices/uart-16550.ts';
import { RecordingIrqLine } from '../hypervisor/devices/irq-line.ts';

const B = COM1.base;
const R = { RBR: B, THR: B, DLL: B, IER: B + 1, DLM: B + 1, IIR: B + 2, FCR: B + 2, LCR: B + 3, MCR: B + 4, LSR: B + 5, MSR: B + 6, SCR: B + 7 };

function rig(input: number[] = []) {
  const irq = new RecordingIrqLine();
  const sent: number[] = [];
  const queue = [...input];
  const uart = new Uart16550(irq, (b) => sent.push(b), { take: () => queue.shift() ?? -1 });
  const rd = (p: number): number => uart.read(p, 1);
  const wr = (p: number, v: number): void => uart.write(p, 1, v);
  return { uart, irq, sent, queue, rd, wr };
}

t.test('power-on state', async (t) => {
  const { rd, irq } = rig();
  t.equal(rd(R.IER), 0);
  t.equal(rd(R.IIR), IIR.NO_INT, 'no interrupt, FIFOs off');
  t.equal(rd(R.LCR), 0);
  t.equal(rd(R.MCR), 0);
  t.equal(rd(R.LSR), LSR.THRE | LSR.TEMT);
  t.equal(rd(R.MSR), MSR.CTS | MSR.DSR | MSR.DCD, 'a connected modem');
  t.equal(rd(R.SCR), 0);
  t.equal(irq.level, false);
});

t.test('divisor latch behind DLAB; IER and RBR/THR without it', async (t) => {
  const { uart, rd, wr, sent } = rig();
  wr(R.LCR, LCR.DLAB | 0x03);
  wr(R.DLL, 0x01);
  wr(R.DLM, 0x02);
  t.equal(rd(R.DLL), 0x01);
  t.equal(rd(R.DLM), 0x02);
  t.equal(uart.baudDivisor, 0x0201);
  t.equal(rd(R.LCR), LCR.DLAB | 0x03, 'LCR reads back');
  t.same(sent, [], 'DLL writes do not transmit');
  wr(R.LCR, 0x03);
  t.equal(rd(R.IER), 0, 'IER untouched by DLM writes');
  wr(R.IER, 0xff);
  t.equal(rd(R.IER), 0x0f, 'only the four enable bits exist on a 16550A');
  wr(R.THR, 0x41);
  t.same(sent, [0x41]);
});

t.test('scratch register and 16-bit accesses split into byte cycles', async (t) => {
  const { uart, rd, wr } = rig();
  wr(R.SCR, 0x5a);
  t.equal(rd(R.SCR), 0x5a);
  uart.write(R.LCR, 2, 0x0b03); // LCR=0x03, MCR=0x0b
  t.equal(rd(R.MCR), 0x0b);
  t.equal(uart.read(R.LCR, 2), 0x0b03);
  t.equal(uart.read(R.SCR, 2), 0xff5a, 'the byte past the UART floats');
});

t.test('writes to LSR and MSR are ignored', async (t) => {
  const { rd, wr } = rig();
  wr(R.LSR, 0x00);
  wr(R.MSR, 0x00);
  t.equal(rd(R.LSR), LSR.THRE | LSR.TEMT);
  t.equal(rd(R.MSR), 0xb0);
});

t.test('MCR keeps five bits', async (t) => {
  const { rd, wr } = rig();
  wr(R.MCR, 0xff);
  t.equal(rd(R.MCR), 0x1f);
});

t.test('16450 mode: one-byte receiver, DR, overrun overwrites', async (t) => {
  const { uart, rd } = rig();
  uart.receive([0x31]);
  t.equal(rd(R.LSR) & LSR.DR, LSR.DR);
  uart.receive([0x32]);
  const lsr = rd(R.LSR);
  t.equal(lsr & (LSR.DR | LSR.OE), LSR.DR | LSR.OE, 'second byte before a read: overrun');
  t.equal(rd(R.LSR) & LSR.OE, 0, 'reading LSR clears OE');
  t.equal(rd(R.RBR), 0x32, 'the newer byte wins');
  t.equal(rd(R.LSR) & LSR.DR, 0);
});

t.test('FIFO mode: 16 bytes in order, overrun keeps the FIFO and sets OE', async (t) => {
  const { uart, rd, wr } = rig();
  wr(R.FCR, FCR.ENABLE);
  t.equal(rd(R.IIR) & 0xc0, 0xc0, 'IIR shows FIFOs enabled');
  uart.receive(Array.from({ length: 17 }, (_, i) => i + 1));
  const lsr = rd(R.LSR);
  t.ok(lsr & LSR.OE, 'the 17th byte overran');
  t.ok(lsr & LSR.DR);
  const got: number[] = [];
  while (rd(R.LSR) & LSR.DR) got.push(rd(R.RBR));
  t.same(got, Array.from({ length: 16 }, (_, i) => i + 1), 'FIFO contents survive the overrun');
  t.equal(rd(R.RBR), 0, 'reading an empty FIFO gives 0');
});

t.test('FCR: clear RX, clear TX, toggling ENABLE empties the FIFOs, other bits need ENABLE', async (t) => {
  const { uart, rd, wr } = rig();
  wr(R.FCR, FCR.ENABLE);
  uart.receive([1, 2, 3]);
  wr(R.FCR, FCR.ENABLE | FCR.CLEAR_RX);
  t.equal(rd(R.LSR) & LSR.DR, 0, 'RX cleared');
  uart.receive([4]);
  wr(R.FCR, 0);
  t.equal(rd(R.LSR) & LSR.DR, 0, 'disabling the FIFO empties it');
  t.equal(rd(R.IIR) & 0xc0, 0);
  uart.receive([5]);
  wr(R.FCR, FCR.CLEAR_RX); // ENABLE clear: the clear bit is not programmed
  t.equal(rd(R.LSR) & LSR.DR, LSR.DR, 'CLEAR_RX without ENABLE does nothing');
  t.equal(rd(R.RBR), 5);
  wr(R.FCR, FCR.ENABLE | FCR.CLEAR_TX);
  t.equal(rd(R.LSR) & (LSR.THRE | LSR.TEMT), LSR.THRE | LSR.TEMT);
});

t.test('RX trigger levels: data-available at the level, timeout below it', async (t) => {
  for (const [bits, level] of [[0x00, 1], [0x40, 4], [0x80, 8], [0xc0, 14]] as const) {
    const { uart, rd, wr, irq } = rig();
    wr(R.MCR, MCR.OUT2);
    wr(R.FCR, FCR.ENABLE | bits);
    wr(R.IER, IER.RDI);
    if (level > 1) {
      uart.receive(Array(level - 1).fill(0x61));
      t.equal(rd(R.IIR) & 0x0f, IIR.CTI, `level ${level}: below it, a character timeout`);
      t.equal(irq.level, true);
    }
    uart.receive([0x62]);
    t.equal(rd(R.IIR) & 0x0f, IIR.RDI, `level ${level}: data available at the level`);
    while (rd(R.LSR) & LSR.DR) rd(R.RBR);
    t.equal(rd(R.IIR), IIR.NO_INT | IIR.FIFO, 'drained: nothing pending');
    t.equal(irq.level, false);
  }
});

t.test('IIR priorities: line status > RX data > THR empty > modem status', async (t) => {
  const { uart, rd, wr, irq } = rig();
  wr(R.MCR, MCR.OUT2);
  wr(R.IER, IER.RDI | IER.THRI | IER.RLSI | IER.MSI);
  // THRE became pending when ETBEI was enabled with THR empty; make a modem-status delta and
  // a line-status error on top of received data.
  wr(R.MCR, MCR.OUT2 | MCR.LOOP); // inputs rewire: CTS/DSR drop, DCD stays (OUT2): deltas
  uart.receive([1]);
  uart.receive([2]); // 16450 overrun
  t.equal(rd(R.IIR), IIR.RLSI, 'receiver line status first');
  t.ok(irq.level);
  t.ok(rd(R.LSR) & LSR.OE, 'LSR read acknowledges it');
  t.equal(rd(R.IIR), IIR.RDI, 'then received data');
  rd(R.RBR);
  t.equal(rd(R.IIR), IIR.THRI, 'then THR empty (read acknowledges it)');
  t.equal(rd(R.IIR), IIR.MSI, 'then modem status');
  const msr = rd(R.MSR);
  t.equal(msr & (MSR.DCTS | MSR.DDSR), MSR.DCTS | MSR.DDSR, 'deltas for the rewired CTS and DSR');
  t.equal(rd(R.IIR), IIR.NO_INT, 'MSR read acknowledged it');
  t.notOk(irq.level);
});

t.test('THRE interrupt: raised by transmit and by enabling ETBEI, cleared by IIR read or THR write', async (t) => {
  const { rd, wr, irq, sent } = rig();
  wr(R.MCR, MCR.OUT2);
  wr(R.IER, IER.THRI);
  t.equal(rd(R.IIR), IIR.THRI, 'enabling ETBEI with THR empty raises THRE');
  t.equal(rd(R.IIR), IIR.NO_INT, 'reading IIR acknowledged it');
  t.notOk(irq.level);
  wr(R.THR, 0x68);
  t.same(sent, [0x68]);
  t.ok(irq.level, 'THR emptied again: THRE raised');
  t.equal(rd(R.LSR) & (LSR.THRE | LSR.TEMT), LSR.THRE | LSR.TEMT, 'transmitter idle again');
  t.equal(rd(R.IIR), IIR.THRI);
  t.equal(rd(R.IIR), IIR.NO_INT);
  wr(R.IER, 0);
  wr(R.THR, 0x69);
  t.equal(rd(R.IIR), IIR.NO_INT, 'no THRE interrupt without ETBEI');
  wr(R.IER, IER.THRI);
  t.equal(rd(R.IIR), IIR.THRI, 're-enabling ETBEI re-raises it (IER toggle)');
  const before = irq.raised;
  wr(R.IER, IER.THRI | IER.RDI);
  t.equal(irq.raised, before, 'an IER write that leaves ETBEI set does not re-raise');
});

t.test('OUT2 gates the IRQ pin, not the IIR', async (t) => {
  const { uart, rd, wr, irq } = rig();
  wr(R.IER, IER.RDI);
  uart.receive([7]);
  t.equal(rd(R.IIR), IIR.RDI);
  t.notOk(irq.level, 'OUT2 clear: the PC bus buffer is off');
  wr(R.MCR, MCR.OUT2);
  t.ok(irq.level, 'OUT2 set: the pending interrupt reaches the PIC');
  wr(R.MCR, 0);
  t.notOk(irq.level);
});

t.test('loopback: THR to RBR, modem outputs to inputs, TERI on the RI trailing edge, host line cut', async (t) => {
  const { uart, rd, wr, sent, queue } = rig();
  wr(R.FCR, FCR.ENABLE);
  wr(R.MCR, MCR.LOOP | MCR.RTS | MCR.OUT2);
  t.equal(rd(R.MSR) & 0xf0, MSR.CTS | MSR.DCD, 'RTS→CTS, OUT2→DCD (Linux\'s probe expects 0x90)');
  wr(R.MCR, MCR.LOOP | MCR.DTR | MCR.OUT1);
  const msr = rd(R.MSR);
  t.equal(msr & 0xf0, MSR.DSR | MSR.RI, 'DTR→DSR, OUT1→RI');
  t.equal(msr & 0x0f, MSR.DCTS | MSR.DDSR | MSR.DDCD, 'deltas for CTS, DSR, DCD');
  wr(R.MCR, MCR.LOOP);
  t.equal(rd(R.MSR) & 0x0f, MSR.DDSR | MSR.TERI, 'RI falling: TERI');
  for (const b of [0x10, 0x20, 0x30]) wr(R.THR, b);
  t.same(sent, [], 'nothing leaves in loopback');
  queue.push(0x99);
  uart.pullInput();
  t.same([rd(R.RBR), rd(R.RBR), rd(R.RBR)], [0x10, 0x20, 0x30]);
  t.equal(rd(R.LSR) & LSR.DR, 0, 'host input waits while in loopback');
  for (let i = 0; i < 17; i++) wr(R.THR, i);
  t.ok(rd(R.LSR) & LSR.OE, 'loopback overrun');
  wr(R.FCR, FCR.ENABLE | FCR.CLEAR_RX);
  wr(R.MCR, 0);
  t.equal(rd(R.RBR), 0x99, 'leaving loopback lets waiting input in');
});

t.test('host input is paced: the receiver takes what fits, the rest waits (no overrun)', async (t) => {
  const input = Array.from({ length: 40 }, (_, i) => 0x40 + i);
  const { uart, rd, wr, queue } = rig(input);
  wr(R.FCR, FCR.ENABLE);
  uart.pullInput();
  t.equal(queue.length, 24, '16 bytes entered the FIFO');
  const got: number[] = [];
  while (rd(R.LSR) & LSR.DR) got.push(rd(R.RBR));
  t.same(got, input, 'every byte arrives, in order, as reads free the FIFO');
  t.equal(rd(R.LSR) & LSR.OE, 0);
  const m = rig([1, 2, 3]);
  m.uart.pullInput();
  t.equal(m.queue.length, 2, '16450 mode takes one byte at a time');
  t.same([m.rd(R.RBR), m.rd(R.RBR), m.rd(R.RBR)], [1, 2, 3]);
});
