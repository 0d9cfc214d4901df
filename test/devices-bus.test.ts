// devices-bus.test.ts: the port/MMIO registry — overlaps rejected, lookups by address, reserved hypervisor ports, vCPU placement.
import t from 'tap';
import { newPortMap, newMmioMap, DeviceRangeError, type PortDevice } from '../hypervisor/devices/io-bus.ts';
import { buildDomainDevices, DomainDevices } from '../hypervisor/devices/domain-devices.ts';
import { RecordingIrqLine } from '../hypervisor/devices/irq-line.ts';
import { newConsoleRings, ConsoleRingsHostSide, ConsoleRingsGuestSide, OUT_RING, IN_RING } from '../hypervisor/devices/console-rings.ts';

const dev = (name: string): PortDevice => ({ name, read: () => 0, write: () => {} });

t.test('ranges: lookup, overlap and bounds rejected', async (t) => {
  const m = newPortMap();
  m.register(0x3f8, 8, dev('a'));
  m.register(0x2f8, 8, dev('b'));
  t.equal(m.find(0x3f8)?.name, 'a');
  t.equal(m.find(0x3ff)?.name, 'a');
  t.equal(m.find(0x400), undefined);
  t.equal(m.find(0x2fc)?.name, 'b');
  t.throws(() => m.register(0x3fc, 8, dev('c')), DeviceRangeError, 'overlap at the end');
  t.throws(() => m.register(0x3f0, 9, dev('c')), DeviceRangeError, 'overlap at the start');
  t.throws(() => m.register(0x3f9, 1, dev('c')), DeviceRangeError, 'inside');
  t.throws(() => m.register(0xffff, 2, dev('c')), DeviceRangeError, 'past the port space');
  t.throws(() => m.register(0x100, 0, dev('c')), DeviceRangeError, 'empty');
  m.register(0x3f0, 8, dev('c'));
  t.equal(m.size, 3, 'adjacent ranges are fine');
  const mm = newMmioMap();
  mm.register(0xfed00000, 0x400, { name: 'hpet', read: () => {}, write: () => {} });
  t.throws(() => mm.register(0xfed003ff, 1, { name: 'x', read: () => {}, write: () => {} }), DeviceRangeError);
  t.equal(mm.find(0xfed00010)?.name, 'hpet');
});

t.test('the hypervisor ports are reserved before any device', async (t) => {
  const d = new DomainDevices();
  for (const p of [0xe7, 0xe8, 0xe9]) t.throws(() => d.ports.register(p, 1, dev('sneaky')), DeviceRangeError, `0x${p.toString(16)}`);
});

t.test('devices exist on vCPU 0; other vCPUs see the ranges as served elsewhere', async (t) => {
  const irqs: number[] = [];
  const line = (gsi: number): RecordingIrqLine => { irqs.push(gsi); return new RecordingIrqLine(); };
  t.equal(buildDomainDevices(undefined, 0, line, () => {}), null, 'no devices: nothing on the exit path');
  t.equal(buildDomainDevices({ uart: null, disks: [] }, 0, line, () => {}), null);
  const init = { uart: newConsoleRings(), disks: [] };
  const d0 = buildDomainDevices(init, 0, line, () => {})!;
  t.equal(d0.ports.find(0x3f8)?.device?.name, 'uart-16550');
  t.same(irqs, [4], 'the UART is on IRQ 4');
  const d1 = buildDomainDevices(init, 1, line, () => {})!;
  const r = d1.ports.find(0x3fd);
  t.equal(r?.name, 'uart-16550');
  t.equal(r?.device, null, 'vCPU 1 only knows the range');
});

t.test('UART output reaches the host ring with one wake-up per batch; input is pulled on poll', async (t) => {
  const sab = newConsoleRings();
  const host = new ConsoleRingsHostSide(sab);
  let wakes = 0;
  const d = buildDomainDevices({ uart: sab, disks: [] }, 0, () => new RecordingIrqLine(), () => wakes++)!;
  for (const c of Buffer.from('hi\n')) d.uart!.write(0x3f8, 1, c);
  t.equal(wakes, 1, 'one wake-up for the batch');
  t.same(Buffer.from(host.drain()).toString(), 'hi\n');
  d.uart!.write(0x3f8, 1, 0x21);
  t.equal(wakes, 2, 'draining re-arms the wake-up');
  t.same(Buffer.from(host.drain()).toString(), '!');
  t.equal(host.push(Buffer.from('ok')), 2);
  d.poll();
  t.equal(d.uart!.read(0x3f8, 1), 0x6f);
  t.equal(d.uart!.read(0x3f8, 1), 0x6b);
  t.equal(d.uart!.read(0x3fd, 1) & 1, 0, 'no more data');
});

t.test('console rings: wrap-around, full output drops and counts, input capacity', async (t) => {
  const sab = newConsoleRings();
  const host = new ConsoleRingsHostSide(sab);
  const guest = new ConsoleRingsGuestSide(sab);
  let total = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < OUT_RING - 10; i++) guest.put(i & 0xff);
    const got = host.drain();
    t.equal(got.length, OUT_RING - 10);
    t.equal(got[OUT_RING - 11], (OUT_RING - 11) & 0xff);
    total += got.length;
  }
  t.ok(total > OUT_RING, 'indices wrapped');
  for (let i = 0; i < OUT_RING + 5; i++) guest.put(1);
  t.equal(host.dropped, 5);
  t.equal(host.drain().length, OUT_RING);
  t.equal(host.push(new Uint8Array(IN_RING + 100)), IN_RING, 'input beyond the queue is refused');
  let n = 0;
  while (guest.take() >= 0) n++;
  t.equal(n, IN_RING);
});
