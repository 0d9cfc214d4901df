// emulated.test.ts: the full-virtualization comparator on pvkvm — the same guest drivers that
// pass under QEMU drive pvkvm's emulated ATA disk and 16550 UART; PV and ATA see the same bytes.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { MiB, imageDir, image, guestPattern, hostPattern, sha256 } from './helpers/blk.ts';
import { runGuest, testResult, guestPath } from './helpers/run-guest.ts';
import { startDaemons } from './helpers/daemons.ts';
import { ControlClient } from '../cli/control-client.ts';
import { readFileSync } from 'node:fs';

const { dir, cleanup } = imageDir();
t.teardown(cleanup);

async function ata(args: string[], cmdline: string): Promise<{ result: string | null; out: string }> {
  const r = await runGuest('blkwork', [...args, '--cmdline', cmdline]);
  return { result: testResult(r.stdout), out: r.stdout + r.stderr };
}

t.test('blkwork over the emulated ATA disk, polled and with IRQ 14', kvmTest(), async (t) => {
  const img = image(dir, 'ata.img', MiB, hostPattern);
  for (const mode of ['polled', 'irq']) {
    const r = await ata(['--emulated-disk', img], `mode=verify-host size=256K bs=4096 ata.mode=${mode}`);
    t.equal(r.result, 'SUCCESS', `${mode}: ${r.out}`);
    t.match(r.out, /ata: primary master "PVKVM HARDDISK"/);
    if (mode === 'irq') t.match(r.out, /irqs=[1-9]/, 'completions came as interrupts');
  }
});

t.test('the same image reads the same through PV and ATA; writes land the same', kvmTest(), async (t) => {
  const img = image(dir, 'same.img', MiB, hostPattern);
  const pv = await ata(['--disk', `${img},ro`], 'mode=verify-host size=512K bs=65536');
  const emu = await ata(['--emulated-disk', `${img},ro`], 'mode=verify-host size=512K bs=65536');
  t.equal(pv.result, 'SUCCESS', pv.out);
  t.equal(emu.result, 'SUCCESS', emu.out);
  const viaPv = image(dir, 'wpv.img', MiB);
  const viaAta = image(dir, 'wata.img', MiB);
  t.equal((await ata(['--disk', viaPv], 'mode=seqwrite size=256K bs=4096')).result, 'SUCCESS');
  t.equal((await ata(['--emulated-disk', viaAta], 'mode=seqwrite size=256K bs=4096')).result, 'SUCCESS');
  t.equal(sha256(viaPv), sha256(viaAta), 'identical host files');
  const b = readFileSync(viaAta);
  let ok = true;
  for (let o = 0; o < 256 * 1024; o++) if (b[o] !== guestPattern(o)) ok = false;
  t.ok(ok, 'and they hold the pattern');
});

t.test('ATA errors: out-of-range LBAs abort, the next command works', kvmTest(), async (t) => {
  const img = image(dir, 'err.img', MiB, hostPattern);
  const r = await runGuest('ataerr', ['--emulated-disk', img]);
  t.equal(testResult(r.stdout), 'SUCCESS', r.stdout + r.stderr);
});

t.test('--console uart: the guest talks on the emulated COM1, both ways', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const cfg = join(d.runDir, 'uart.cfg');
  writeFileSync(cfg, `name = "serial"\nkernel = "${guestPath('uartecho')}"\nmemory = 32\n` +
    'cmdline = "console=uart uart.mode=irq bulk=2000"\nconsole = "uart"\n');
  const c = await ControlClient.connect(d.runDir);
  t.teardown(() => c.close());
  let out = '';
  let sent = false;
  c.on('output', (b) => {
    out += b.toString();
    if (!sent && out.includes('uartecho: ready')) {
      sent = true;
      c.input(Buffer.from('ping 4242\n'));
    }
  });
  const ended = new Promise((resolve) => c.once('end', resolve));
  const spec = {
    name: 'serial', kernel: guestPath('uartecho'), cmdline: 'console=uart uart.mode=irq bulk=2000', memoryMiB: 32, vcpus: 1,
    modules: [], onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy', console: 'uart',
  };
  await c.request('create', { settings: spec, console: true });
  t.match(await ended, { kind: 'shutdown', reason: 0 });
  t.match(out, /uartecho: got ping 4242/, 'input reached the UART receiver');
  t.match(out, /uartecho: bulk [a-z]{2000}/, 'bulk output through the transmit interrupt');
  t.match(out, /Test result: SUCCESS/);
});
