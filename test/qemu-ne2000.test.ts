// qemu-ne2000.test.ts: the domU-sdk's NE2000 driver against QEMU's ne2k_isa (0x300, IRQ 9) with a
// user-mode (slirp) network as the real peer — the unchanged `network` guest pings the slirp
// gateway (10.0.2.2, which slirp answers itself) and exchanges UDP with sockets in this test
// (10.0.2.2:P is the host's 127.0.0.1:P), polled and on IRQ 9 through the PIC and the IOAPIC.
// Without qemu-system-x86_64 the tests skip, except under CI=true, where they fail.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { guestPath, testResult } from './helpers/run-guest.ts';

const QEMU = process.env.PVKVM_QEMU ?? 'qemu-system-x86_64';
const CI = process.env.CI === 'true';
const RUN_LIMIT_MS = 60_000;
const POWEROFF = 1; // isa-debug-exit: (SHUTDOWN_poweroff << 1) | 1
const MAGIC = 0x50564e54;

const qemuMissing = spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status === 0 ? null : `${QEMU} is not installed (Debian: qemu-system-x86)`;
if (CI && qemuMissing) t.fail(`${qemuMissing}; required under CI=true`);
const skip = qemuMissing ? (CI ? `${qemuMissing} (failed above)` : `${qemuMissing}; skipped outside CI`) : false;

interface Run { readonly code: number | null; readonly out: string; readonly result: string | null }

function runQemu(cmdline: string, netdev = 'user,id=n0'): Promise<Run> {
  const args = [
    '-machine', 'pc', '-accel', process.env.PVKVM_QEMU_ACCEL ?? 'tcg', '-m', '64', '-display', 'none', '-monitor', 'none',
    '-no-reboot', '-nodefaults', '-kernel', guestPath('network'), '-append', cmdline,
    '-device', 'isa-debug-exit,iobase=0x501,iosize=4', '-serial', 'none', '-debugcon', 'stdio',
    '-netdev', netdev, '-device', 'ne2k_isa,netdev=n0,iobase=0x300,irq=9,mac=52:54:00:12:34:56',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString('latin1').replace(/\r/g, ''); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const killer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out, result: testResult(out) });
    });
  });
}

const bound = (s: Socket): Promise<number> => new Promise((res) => s.bind(0, '127.0.0.1', () => res(s.address().port)));
const diag = (r: Run) => ({ exit: r.code, output: r.out });
const IP = 'ip=10.0.2.15 mask=24 gw=10.0.2.2 vif_wait=20';

t.test('the network guest exists', { skip }, async (t) => {
  t.ok(existsSync(guestPath('network')), `${guestPath('network')} (run node build.mjs)`);
});

t.test('ICMP echo to the slirp gateway, polled and on IRQ 9 (PIC, IOAPIC)', { skip }, async (t) => {
  for (const mode of ['ne2k.mode=polled', 'ne2k.mode=irq isa.irq=pic', 'ne2k.mode=irq isa.irq=ioapic']) {
    const r = await runQemu(`mode=ping peer=10.0.2.2 count=20 size=1000 ${IP} ${mode}`);
    t.equal(r.result, 'SUCCESS', `${mode}: Test result: SUCCESS`, diag(r));
    t.equal(r.code, POWEROFF, 'powered off', diag(r));
    t.match(r.out, /^net: nic ne2k_isa@0x300 irq 9 \S+ mac=52:54:00:12:34:56 ip=10\.0\.2\.15 .*driver=ne2000$/m, 'the MAC came from the PROM', diag(r));
    t.match(r.out, /^net: ping sent=20 received=20 lost=0 /m, diag(r));
  }
});

t.test('UDP echo through slirp to a socket here: every datagram comes back byte for byte', { skip }, async (t) => {
  const echo = createSocket('udp4');
  const seen: Buffer[] = [];
  echo.on('message', (m, from) => {
    seen.push(m);
    echo.send(m, from.port, from.address);
  });
  const port = await bound(echo);
  t.teardown(() => echo.close());
  const r = await runQemu(`mode=udp-ping peer=10.0.2.2 port=${port} count=50 size=1400 ${IP} ne2k.mode=irq`);
  t.equal(r.result, 'SUCCESS', 'Test result: SUCCESS', diag(r));
  t.match(r.out, /^net: udp-ping sent=50 received=50 lost=0 /m, diag(r));
  t.equal(seen.length, 50, 'the echo server saw each request once');
  t.ok(seen.every((m) => m.length === 1400), 'full-size datagrams');
});

t.test('udp-send: numbered datagrams arrive complete and intact', { skip }, async (t) => {
  const sink = createSocket('udp4');
  const got: Buffer[] = [];
  sink.on('message', (m) => got.push(m));
  const port = await bound(sink);
  t.teardown(() => sink.close());
  // The sender pings first (slirp answers), then sends; paced so slirp's queues never overflow.
  const count = 300;
  const r = await runQemu(`mode=udp-send peer=10.0.2.2 port=${port} count=${count} size=1472 rate=2000 ${IP}`);
  t.equal(r.result, 'SUCCESS', 'Test result: SUCCESS', diag(r));
  const data = got.filter((m) => m.readUInt32BE(0) === MAGIC && m.readUInt32BE(4) === 0);
  const done = got.filter((m) => m.readUInt32BE(0) === MAGIC && m.readUInt32BE(4) === 1);
  t.equal(data.length, count, 'every data datagram', diag(r));
  t.ok(done.length >= 1 && done[0]!.readUInt32BE(8) === count, 'the done marker says how many were sent');
  const seqs = new Set<number>();
  let bad = 0;
  for (const m of data) {
    const seq = m.readUInt32BE(8);
    seqs.add(seq);
    if (m.length !== 1472) bad++;
    else for (let i = 16; i < m.length; i++) if (m[i] !== ((seq + i) & 0xff)) { bad++; break; }
  }
  t.equal(seqs.size, count, 'no duplicates, none missing');
  t.equal(bad, 0, 'every payload byte as sent');
});

t.test('no NE2000 on the bus: the guest reports no NIC', { skip }, async (t) => {
  const args = ['-machine', 'pc', '-accel', 'tcg', '-m', '64', '-display', 'none', '-monitor', 'none', '-no-reboot', '-nodefaults',
    '-kernel', guestPath('network'), '-append', `mode=ping peer=10.0.2.2 ${IP}`, '-device', 'isa-debug-exit,iobase=0x501,iosize=4',
    '-serial', 'none', '-debugcon', 'stdio'];
  const r = spawnSync(QEMU, args, { encoding: 'latin1', timeout: RUN_LIMIT_MS });
  t.equal(testResult(r.stdout), 'FAILURE', r.stdout);
  t.match(r.stdout, /^net: (no NIC 0|opening NIC 0 failed): -19$/m);
});
