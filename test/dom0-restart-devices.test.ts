// dom0-restart-devices.test.ts: a guest's disks and vifs survive dom0 being SIGKILLed — the new
// dom0 (pvkvm up) serves them again from the store's backend directories (InitWait), and the
// SDK frontends reconnect: blkfront re-issues every request that had no response, netfront
// posts its RX buffers again.
//   - random verified I/O (blkwork mode=random, reads checked against what was written) runs
//     on across the restart and finishes with every read right;
//   - sequential writes with acknowledgements: every write acknowledged before the kill is on the
//     file as soon as the old dom0 is gone, and the whole region is written once the guest is done;
//   - a responder guest on the internal switch answers pings before and after the restart (a
//     SIGKILLed dom0, then one stopped by SIGTERM, which leaves the device pairs for the next);
//     network-detach and block-detach work on the adopted domain's devices.
// No timing thresholds: only progress and contents are checked.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { MiB, imageDir, image, guestPattern, blkworkConfig } from './helpers/blk.ts';
import { startDaemons, eventually, type TestDaemons, alive } from './helpers/daemons.ts';
import { netConfig } from './helpers/net.ts';

const { dir, cleanup } = imageDir();
t.teardown(cleanup);

const consoleLog = (d: TestDaemons, name: string): string => {
  try {
    return readFileSync(join(d.runDir, 'logs', `console-${name}.log`), 'utf8');
  } catch {
    return '';
  }
};

/** Kill dom0 (SIGKILL, or SIGTERM: it stops and leaves the guests running), wait until it is gone, start a new one. */
async function restartDom0(t: Test, d: TestDaemons, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
  const old = d.pid('dom0');
  process.kill(old, signal);
  t.ok(await eventually(() => (alive(old) ? undefined : true)), 'the old dom0 is gone');
  const up = await d.cli(['up']);
  t.equal(up.code, 0, up.stderr);
  t.not(d.pid('dom0'), old, 'a new dom0');
}

/** The numbers after `re` (one capture group) in the console log. */
const numbers = (text: string, re: RegExp): number[] => [...text.matchAll(re)].map((m) => Number(m[1]));

t.test('verified random disk I/O carries on through a dom0 restart', kvmTest(), async (t) => {
  const img = image(dir, 'random.img', 16 * MiB);
  const d = await startDaemons();
  t.teardown(() => d.down());
  // Reads are checked against the generation last written to each block, and a final pass
  // re-reads every written block: a write lost across the restart, or one applied twice out of
  // order, fails the guest.
  const r = await d.cli(['create', blkworkConfig(d.runDir, 'rnd', img, 'mode=random size=8M bs=4096 qd=8 ops=4000 progress=100 timeout_ms=180000')]);
  t.equal(r.code, 0, r.stderr);
  t.ok(await eventually(() => (numbers(consoleLog(d, 'rnd'), /blkwork: progress (\d+)/g).some((n) => n >= 300) || undefined), 120_000), 'the guest is doing I/O');
  const before = Math.max(...numbers(consoleLog(d, 'rnd'), /blkwork: progress (\d+)/g));
  await restartDom0(t, d);

  const served = await eventually(async () => {
    const r = await d.cli(['block-list', 'rnd', '--json']);
    const b = JSON.parse(r.code === 0 ? r.stdout : '[]') as { vdev: string; state: string }[];
    return b[0]?.state === 'Connected' || /Test result/.test(consoleLog(d, 'rnd')) ? b : undefined;
  }, 60_000);
  t.match(served, [{ vdev: 'xvda', state: 'Connected' }], 'block-list shows the adopted domain\'s disk connected again');
  const end = await eventually(() => (/Test result: \w+/.test(consoleLog(d, 'rnd')) ? consoleLog(d, 'rnd') : undefined), 240_000);
  const log = end ?? consoleLog(d, 'rnd');
  t.ok(Math.max(...numbers(log, /blkwork: progress (\d+)/g)) > before, 'progress continued past the kill');
  t.match(log, /blkfront: device\/vbd\/51712: reconnected/, 'blkfront reconnected to the new backend');
  t.match(log, /blkwork: random ops=4000 .* ok/, 'every operation completed and every read was right');
  t.match(log, /reconnects=[1-9]/, 'the stats count the reconnect');
  t.match(log, /Test result: SUCCESS/, log.split('\n').slice(-8).join('\n'));
});

t.test('acknowledged writes are on the file at the kill; the rest is written after the restart', kvmTest(), async (t) => {
  const SIZE = 8 * MiB;
  const img = image(dir, 'seq.img', SIZE);
  const d = await startDaemons();
  t.teardown(() => d.down());
  const r = await d.cli(['create', blkworkConfig(d.runDir, 'seq', img, `mode=seqwrite size=${SIZE} bs=4096 qd=4 ack=1 timeout_ms=180000`)]);
  t.equal(r.code, 0, r.stderr);
  t.ok(await eventually(() => (numbers(consoleLog(d, 'seq'), /blkwork: ack (\d+)/g).length > 100 || undefined), 120_000), 'the guest is writing');
  const old = d.pid('dom0');
  process.kill(old, 'SIGKILL');
  t.ok(await eventually(() => (alive(old) ? undefined : true)), 'the old dom0 is gone');
  // Every ack the guest printed came after blkback's write completed: it is on the file now,
  // before any new dom0 runs. (Acks still in the console ring reach the log after `up`.)
  await new Promise((res) => setTimeout(res, 200));
  const file = readFileSync(img);
  const up = await d.cli(['up']);
  t.equal(up.code, 0, up.stderr);
  const end = await eventually(() => (/Test result: \w+/.test(consoleLog(d, 'seq')) ? consoleLog(d, 'seq') : undefined), 240_000);
  const log = end ?? consoleLog(d, 'seq');
  const killedAt = log.indexOf('reconnecting');
  t.ok(killedAt > 0, 'blkfront noticed the backend restart');
  const acked = numbers(log.slice(0, killedAt), /blkwork: ack (\d+)/g);
  t.ok(acked.length > 0, `${acked.length} writes acknowledged before the restart`);
  let bad = -1;
  for (const off of acked) {
    for (let o = off; o < off + 4096 && bad < 0; o++) if (file[o] !== guestPattern(o)) bad = o;
  }
  t.equal(bad, -1, 'every write acknowledged before the restart was on the file when dom0 died');
  t.match(log, /blkwork: seqwrite bytes=8388608 bs=4096 qd=4 ok/, 'every write completed');
  t.match(log, /Test result: SUCCESS/);
  const after = readFileSync(img);
  bad = -1;
  for (let o = 0; o < SIZE && bad < 0; o++) if (after[o] !== guestPattern(o)) bad = o;
  t.equal(bad, -1, 'the whole region holds what the guest wrote');
});

t.test('a responder answers pings before and after dom0 restarts', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  // A disk too, which this guest never opens: block-list and block-detach on an adopted domain.
  const pongCfg = netConfig(d, 'pong', 'mode=responder ip=10.0.0.2 mask=24 duration=600');
  writeFileSync(pongCfg, `${readFileSync(pongCfg, 'utf8')}disk = [ 'format=raw, vdev=xvdb, access=ro, target=${image(dir, 'pong.img', MiB)}' ]\n`);
  const created = await d.cli(['create', pongCfg]);
  t.equal(created.code, 0, created.stderr);
  const ping = async (name: string): Promise<string> => {
    const r = await d.cli(['create', netConfig(d, name, 'mode=ping ip=10.0.0.3 mask=24 peer=10.0.0.2 count=10 vif_wait=60'), '-c'], 180_000);
    return r.stdout;
  };
  const first = await ping('ping1');
  t.match(first, /net: ping sent=10 received=10 lost=0/, 'answered before the restart');
  await restartDom0(t, d);
  const vifs = JSON.parse((await d.cli(['network-list', 'pong', '--json'])).stdout || '[]') as { devid: number; state: string }[];
  t.match(vifs, [{ devid: 0 }], 'network-list shows the vif of the adopted domain');
  t.ok(await eventually(() => (/netfront: device\/vif\/0: reconnected/.test(consoleLog(d, 'pong')) || undefined), 60_000), 'netfront reconnected');
  const second = await ping('ping2');
  t.match(second, /net: ping sent=10 received=10 lost=0/, 'answered after the restart');
  // A dom0 stopped by a signal leaves its guests running and their device pairs in the store.
  await restartDom0(t, d, 'SIGTERM');
  t.ok(await eventually(() => ((consoleLog(d, 'pong').match(/netfront: device\/vif\/0: reconnected/g) ?? []).length >= 2 || undefined), 60_000), 'netfront reconnected again');
  const third = await ping('ping3');
  t.match(third, /net: ping sent=10 received=10 lost=0/, 'answered after a SIGTERMed dom0 was replaced');
  const disks = JSON.parse((await d.cli(['block-list', 'pong', '--json'])).stdout || '[]') as { vdev: string; state: string }[];
  t.match(disks, [{ vdev: 'xvdb', state: 'InitWait' }], 'block-list shows the adopted domain\'s disk served (waiting for its frontend)');
  const bdetach = await d.cli(['block-detach', 'pong', 'xvdb']);
  t.equal(bdetach.code, 0, `block-detach works on the adopted disk: ${bdetach.stderr}`);
  t.same(JSON.parse((await d.cli(['block-list', 'pong', '--json'])).stdout || '[]'), [], 'and it is gone');
  // Last: the responder ends once its NIC is unplugged.
  const detach = await d.cli(['network-detach', 'pong', '0']);
  t.equal(detach.code, 0, `network-detach works on the adopted vif: ${detach.stderr}`);
});
