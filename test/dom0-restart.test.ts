// dom0-restart.test.ts: killing dom0 does not kill the guests — a new dom0 (pvkvm up) adopts the
// running domain, rebinds its console and store channels and keeps the store's contents.
import t from 'tap';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually, alive } from './helpers/daemons.ts';
import { XsSocketClient } from './helpers/xs-client.ts';
import { ControlClient } from '../cli/control-client.ts';

t.test('a killed dom0 is replaced and takes over the running guest', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const c = await d.cli(['create', d.config('survivor', 'console-echo')]);
  t.equal(c.code, 0, c.stderr);
  const domid = Number(/created domain (\d+)/.exec(c.stdout)![1]);
  const home = `/local/domain/${domid}`;

  const xs1 = await XsSocketClient.connect(join(d.runDir, 'xenstored.sock'));
  await xs1.write(`${home}/data/keep`, 'kept across the restart');
  await new Promise((r) => setTimeout(r, 300)); // the store is saved shortly after a change
  xs1.close();

  const oldDom0 = d.pid('dom0');
  process.kill(oldDom0, 'SIGKILL');
  t.ok(await eventually(() => (alive(oldDom0) ? undefined : true)), 'dom0 is gone');

  const up = await d.cli(['up']);
  t.equal(up.code, 0, up.stderr);
  t.not(d.pid('dom0'), oldDom0, 'a new dom0');
  const list = JSON.parse((await d.cli(['list', '--json'])).stdout) as { name: string; domid: number; state: string }[];
  t.match(list, [{ name: 'survivor', domid, state: 'running' }], 'the guest survived and was adopted');

  const xs2 = await XsSocketClient.connect(join(d.runDir, 'xenstored.sock'));
  t.teardown(() => xs2.close());
  t.equal(await xs2.read(`${home}/data/keep`), 'kept across the restart', 'the store kept its contents');

  // The console channel was rebound: input reaches the guest and its answer comes back.
  const cc = await ControlClient.connect(d.runDir);
  t.teardown(() => cc.close());
  let out = '';
  cc.on('output', (b) => { out += b.toString(); });
  const ended = new Promise((resolve) => cc.once('end', resolve));
  await cc.request('console', { domain: 'survivor', backlog: false });
  cc.input(Buffer.from('after restart\r'));
  t.ok(await eventually(() => (out.includes('got: after restart') ? true : undefined)), 'echo through the new dom0');
  cc.input(Buffer.from('quit\r'));
  t.match(await ended, { kind: 'shutdown', reason: 0 }, 'the guest powered off');
});
