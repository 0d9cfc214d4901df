// blk-daemons.test.ts: PV disks through `pvkvm create` — two guests on two disks at once, and
// destroying guests in the middle of I/O leaks no fds or backend nodes in dom0.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { MiB, imageDir, image, blkworkConfig } from './helpers/blk.ts';
import { startDaemons, processFds, eventually } from './helpers/daemons.ts';
import { XsSocketClient } from './helpers/xs-client.ts';

const { dir, cleanup } = imageDir();
t.teardown(cleanup);

t.test('two guests on two disks at once; destroy during I/O leaks nothing', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const one = image(dir, 'two-1.img', 8 * MiB);
  const two = image(dir, 'two-2.img', 8 * MiB);
  const cfg = (name: string, img: string, cmdline: string): string => blkworkConfig(d.runDir, name, img, cmdline);
  for (const [name, img, seed] of [['left', one, 3], ['right', two, 5]] as const) {
    const r = await d.cli(['create', cfg(name, img, `mode=random size=4M bs=4096 qd=8 ops=100 seed=${seed}`)]);
    t.equal(r.code, 0, r.stderr);
  }
  const done = await eventually(async () => {
    const l = JSON.parse((await d.cli(['list', '--json'])).stdout) as unknown[];
    return l.length === 0 ? true : undefined;
  }, 120_000);
  t.ok(done, 'both finished');
  for (const name of ['left', 'right']) {
    t.match(readFileSync(join(d.runDir, 'logs', `console-${name}.log`), 'utf8'), /Test result: SUCCESS/, `${name} verified its disk`);
  }

  const dom0 = d.pid('dom0');
  const fds0 = processFds(dom0);
  for (let i = 0; i < 3; i++) {
    const r = await d.cli(['create', cfg(`busy${i}`, one, 'mode=random size=4M bs=65536 qd=16 ops=100000')]);
    t.equal(r.code, 0, r.stderr);
    await new Promise((res) => setTimeout(res, 1500)); // let it connect and get busy
    t.equal((await d.cli(['destroy', `busy${i}`])).code, 0);
  }
  // Workers stopped in the middle of a request get a grace period before they are terminated.
  const settled = await eventually(() => (processFds(dom0) <= fds0 ? true : undefined), 15_000);
  t.ok(settled, `dom0 fds ${fds0} → ${processFds(dom0)}`);
  const xs = await XsSocketClient.connect(join(d.runDir, 'xenstored.sock'));
  t.teardown(() => xs.close());
  const left = await xs.directory('/local/domain/0/backend/vbd').catch(() => []);
  t.same(left, [], 'no backend nodes left');
});
