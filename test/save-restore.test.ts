// save-restore.test.ts: `pvkvm save` / `pvkvm restore` end to end — a guest that counts keeps
// counting across save -c (suspend cancelled) and save + restore (a new domain, same name), its
// memory and xenstore nodes come back, it still obeys control/shutdown; bad files are refused. A
// guest with a disk and a vif keeps doing verified I/O across both, a write left in flight over
// the save included (blkfront issues it again to the restored domain's new backend).
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually, type TestDaemons } from './helpers/daemons.ts';
import { XsSocketClient } from './helpers/xs-client.ts';

/** A temp dir for save files, test daemons, and a xenstore client for reading the guest's nodes. */
async function session(t: Test): Promise<{ dir: string; d: TestDaemons; read: (path: string) => Promise<string | undefined>; domidOf: () => Promise<number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-save-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const d = await startDaemons();
  t.teardown(() => d.down());
  const xs = await XsSocketClient.connect(join(d.runDir, 'xenstored.sock'));
  t.teardown(() => xs.close());
  const read = (path: string): Promise<string | undefined> => xs.read(path).catch(() => undefined);
  const domidOf = async (): Promise<number> => (JSON.parse((await d.cli(['list', '--json'])).stdout) as { domid: number }[])[0]!.domid;
  return { dir, d, read, domidOf };
}

t.test('a counting guest survives save -c, save and restore', kvmTest(), async (t) => {
  const { dir, d, read, domidOf } = await session(t);

  t.equal((await d.cli(['create', d.config('counter', 'saverestore')])).code, 0);
  const first = await domidOf();
  t.ok(await eventually(async () => ((await read(`/local/domain/${first}/control/feature-suspend`)) === '1' ? true : undefined)), 'guest offers suspend');

  // save -c: the guest suspends, the file is written, the same domain resumes (rc 1).
  const file = join(dir, 'counter.save');
  const kept = await d.cli(['save', 'counter', file, '-c']);
  t.equal(kept.code, 0, kept.stderr);
  t.match(kept.stdout, /saved to .* still running/);
  const r1 = await eventually(async () => read(`/local/domain/${first}/data/resume-1`));
  const s1 = Number(await read(`/local/domain/${first}/data/suspend-1`));
  t.equal(r1, `${s1} 1 ok`, 'resumed in place: suspend returned 1, counter and memory intact');

  // save: the domain is destroyed; restore brings it back as a new domain with the same name.
  const saved = await d.cli(['save', 'counter', file]);
  t.equal(saved.code, 0, saved.stderr);
  t.same(JSON.parse((await d.cli(['list', '--json'])).stdout), [], 'the saved domain is gone');
  const restored = await d.cli(['restore', file]);
  t.equal(restored.code, 0, restored.stderr);
  t.match(restored.stdout, /restored domain \d+ \(counter\)/);
  const second = await domidOf();
  t.not(second, first, 'a new domain');
  const r2 = await eventually(async () => read(`/local/domain/${second}/data/resume-2`));
  const s2 = Number(await read(`/local/domain/${second}/data/suspend-2`));
  t.ok(s2 > s1, 'the counter went on between the two saves');
  t.equal(r2, `${s2} 0 ok`, 'restored: suspend returned 0, the counter goes on from where it was, memory intact');
  t.equal(await read(`/local/domain/${second}/data/ready`), '1', 'the guest\'s xenstore nodes came back');

  // The restored guest still talks to xenstore: it obeys control/shutdown with a later count.
  const off = await d.cli(['shutdown', 'counter']);
  t.equal(off.code, 0, off.stderr);
  t.match(off.stdout, /shut down: poweroff/);

  // Hostile files: each refused with one line.
  const good = readFileSync(file);
  const cases: [string, Uint8Array, RegExp][] = [
    ['truncated', good.subarray(0, Math.floor(good.length / 2)), /truncated save file/],
    ['bad magic', Buffer.concat([Buffer.from('NOTASAVE'), good.subarray(8)]), /bad magic/],
    ['future version', Buffer.concat([good.subarray(0, 8), Buffer.from([9, 0, 0, 0]), good.subarray(12)]), /version 9 is not supported/],
    ['empty', new Uint8Array(0), /too short/],
  ];
  for (const [name, bytes, msg] of cases) {
    const bad = join(dir, `${name.replace(/ /g, '-')}.save`);
    writeFileSync(bad, bytes);
    const r = await d.cli(['restore', bad]);
    t.not(r.code, 0, `${name}: refused`);
    t.match(r.stderr, msg, `${name}: says why`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
  }
  t.same(JSON.parse((await d.cli(['list', '--json'])).stdout), [], 'no domain was left behind');
});

t.test('a guest doing verified disk I/O keeps it up across save -c, save and restore', kvmTest(), async (t) => {
  const { dir, d, read, domidOf } = await session(t);
  const img = join(dir, 'disk.img');
  writeFileSync(img, Buffer.alloc(4 * 1024 * 1024));
  const cfg = join(d.runDir, 'io.cfg');
  writeFileSync(cfg, `${readFileSync(d.config('io', 'saverestore', { cmdline: 'disk=1' }), 'utf8')}disk = [ 'format=raw, vdev=xvda, access=rw, target=${img}' ]\nvif = [ 'mac=00:16:3e:00:00:42' ]\n`);
  const io = (v: string | undefined): { rounds: number; bad: number } => {
    const [rounds, bad] = (v ?? '').split(' ').map(Number);
    return { rounds: rounds ?? NaN, bad: bad ?? NaN };
  };

  t.equal((await d.cli(['create', cfg])).code, 0);
  const first = await domidOf();
  t.ok(await eventually(async () => ((await read(`/local/domain/${first}/data/ready`)) === '1' ? true : undefined), 60_000), 'guest ready');
  await new Promise((r) => setTimeout(r, 1000)); // some I/O rounds first

  const file = join(dir, 'io.save');
  const kept = await d.cli(['save', 'io', file, '-c']);
  t.equal(kept.code, 0, kept.stderr);
  t.ok(await eventually(async () => read(`/local/domain/${first}/data/io-2`), 60_000), 'resumed in place with its disk');
  t.match(io(await read(`/local/domain/${first}/data/io-2`)), { bad: 0 }, 'the write in flight over save -c completed and reads back');

  const saved = await d.cli(['save', 'io', file]);
  t.equal(saved.code, 0, saved.stderr);
  const restored = await d.cli(['restore', file]);
  t.equal(restored.code, 0, restored.stderr);
  const second = await domidOf();
  t.not(second, first, 'a new domain');
  const atSave = io(await read(`/local/domain/${second}/data/io-3`)); // written before it suspended, restored with its nodes
  const resumed = await eventually(async () => read(`/local/domain/${second}/data/io-4`), 60_000);
  t.ok(resumed, 'the restored guest reconnected its disk and finished the write left in flight');
  t.match(io(resumed), { bad: 0 }, 'no failed request, no bad read');
  const blocks = JSON.parse((await d.cli(['block-list', 'io', '--json'])).stdout) as { vdev: string; state: string; backend: string }[];
  t.match(blocks, [{ vdev: 'xvda', state: 'Connected', backend: `/local/domain/0/backend/vbd/${second}/51712` }], 'the disk is served to the new domain');
  const vifs = JSON.parse((await d.cli(['network-list', 'io', '--json'])).stdout) as { devid: number; mac: string }[];
  t.match(vifs, [{ devid: 0, mac: '00:16:3e:00:00:42' }], 'the vif came back with the restored domain');
  // It keeps doing I/O in the new domain, then powers off with every read right.
  await new Promise((r) => setTimeout(r, 1500));
  const off = await d.cli(['shutdown', 'io']);
  t.equal(off.code, 0, off.stderr);
  const log = readFileSync(join(d.runDir, 'logs', 'console-io.log'), 'utf8');
  const final = /saverestore: io rounds=(\d+) bad=(\d+)/.exec(log);
  t.ok(final, 'the guest reported its I/O');
  t.ok(Number(final?.[1]) > atSave.rounds, `it went on doing I/O after the restore (${atSave.rounds} rounds at the save, ${final?.[1]} at the end)`);
  t.equal(final?.[2], '0', 'no bad read or failed request over the whole run');
  t.match(log, /blkfront: device\/vbd\/51712: restored in a new domain; reconnecting/, 'blkfront reconnected after the restore');
  t.match(log, /Test result: SUCCESS/, 'the guest finished');
  t.notMatch(log, /saverestore: (block|write)/, 'no I/O error in the guest');
});
