// block-hotplug.test.ts: block-attach / block-detach against a real guest — it waits for a second
// disk (blkfront's watch on device/vbd), reads it, sees it go (backend Closing), closes it cleanly;
// the saved settings follow; top counts its reads; mistakes are one line.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';
import { pvkvm } from './helpers/run-guest.ts';

t.test('block-attach/-detach: help and argument errors', async (t) => {
  for (const cmd of ['block-attach', 'block-detach']) {
    const r = await pvkvm([cmd, '--help']);
    t.equal(r.code, 0);
    t.match(r.stdout, new RegExp(`^Usage: pvkvm ${cmd} `));
  }
  const bad = await pvkvm(['block-attach', 'g', 'img,qcow2,xvdb']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^pvkvm: block-attach: [^\n]+\n$/);
  const bad2 = await pvkvm(['block-detach', 'g', '../etc']);
  t.equal(bad2.code, 2);
  t.match(bad2.stderr, /^pvkvm: block-detach: [^\n]+\n$/);
});

t.test('a guest sees a disk hot-plugged and hot-unplugged', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const img0 = join(d.runDir, 'first.img');
  const img1 = join(d.runDir, 'second.img');
  const sector = (s: string): Buffer => Buffer.concat([Buffer.from(`${s}\n`), Buffer.alloc(64 * 1024 - s.length - 1)]);
  writeFileSync(img0, sector('the first disk'));
  writeFileSync(img1, sector('the hot-plugged disk'));
  const cfg = d.config('hot', 'blkhotplug', {});
  writeFileSync(cfg, `${readFileSync(cfg, 'utf8')}disk = [ '${img0},raw,xvda,rw' ]\n`);
  const created = await d.cli(['create', cfg]);
  t.equal(created.code, 0, created.stderr);
  const log = join(d.runDir, 'logs', 'console-hot.log');
  const seen = (re: RegExp): Promise<string | undefined> => eventually(() => {
    let s = '';
    try { s = readFileSync(log, 'utf8'); } catch { /* not yet */ }
    return re.test(s) ? s : undefined;
  }, 60_000);
  t.ok(await seen(/waiting for a second disk/), 'the guest waits for a second disk');

  const missing = await d.cli(['block-attach', 'hot', `${d.runDir}/nope.img,raw,xvdb,ro`]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^pvkvm: [^\n]*nope\.img[^\n]*\n$/, 'a missing image is one line');
  const dup = await d.cli(['block-attach', 'hot', `${img1},raw,xvda,ro`]);
  t.match(dup.stderr, /^pvkvm: domain hot already has a disk xvda\n$/);

  const att = await d.cli(['block-attach', 'hot', `${img1},raw,xvdb,ro`]);
  t.equal(att.code, 0, att.stderr);
  t.match(att.stdout, /^domain hot: attached xvdb \(.*second\.img, ro\)\n$/);
  t.ok(await seen(/disk 1 says: the hot-plugged disk/), 'the guest read the new disk');
  const bl = JSON.parse((await d.cli(['block-list', 'hot', '--json'])).stdout) as Array<{ vdev: string; state: string }>;
  t.same(bl.map((b) => b.vdev), ['xvda', 'xvdb']);
  const domid = (JSON.parse((await d.cli(['list', '--json'])).stdout) as Array<{ domid: number }>)[0]!.domid;
  const saved = (): Array<{ vdev: string }> => (JSON.parse(readFileSync(join(d.runDir, 'domains', `${domid}.json`), 'utf8')) as { disks: Array<{ vdev: string }> }).disks;
  t.same(saved().map((x) => x.vdev), ['xvda', 'xvdb'], 'saved settings have the attached disk');
  const top = await d.cli(['top', '-b', '-i', '1', '-d', '0.2']);
  const row = top.stdout.split('\n').find((l) => l.startsWith('hot '))!.split(/\s+/);
  t.equal(row[12], '2', 'top: two disks');
  t.ok(Number(row[13]) >= 2, `top: read requests ${row[13]}`);

  const det = await d.cli(['block-detach', 'hot', 'xvdb']);
  t.equal(det.code, 0, det.stderr);
  t.equal(det.stdout, 'domain hot: detached xvdb\n');
  const done = await seen(/Test result: \w+/);
  t.match(done, /disk 1 removed; closed it: 0\n/, 'the guest closed it cleanly');
  t.match(done, /vbds left: 1\n/, 'the device is gone from device/vbd');
  t.match(done, /Test result: SUCCESS/);
  t.same(saved().map((x) => x.vdev), ['xvda'], 'saved settings dropped it');
  const again = await d.cli(['block-detach', 'hot', 'xvdb']);
  t.equal(again.code, 1);
  t.equal(again.stderr, 'pvkvm: domain hot has no disk xvdb\n');
  t.equal((await d.cli(['destroy', 'hot'])).code, 0);
});
