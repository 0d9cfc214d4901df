// toolstack-vifs.test.ts: the toolstack drives the NetBackend — vifs plugged on create, released
// on destroy, back after a restart, hot-plugged and unplugged with the settings following — on a
// fake hypervisor with a backend that records its calls (no KVM needed).
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeDom0, type FakeDom0 } from './helpers/fake-dom0.ts';
import { eventually } from './helpers/daemons.ts';
import type { DomainSettings, VifSetting } from '../abi/domain-settings.ts';

function settings(d: FakeDom0, name: string, vifs?: VifSetting[], extra: Partial<DomainSettings> = {}): DomainSettings {
  const kernel = join(d.runDir, 'k.elf');
  writeFileSync(kernel, 'not run: the hypervisor is fake');
  return { name, kernel, cmdline: '', memoryMiB: 32, vcpus: 1, modules: [], onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'destroy', vifs, ...extra };
}

const A: VifSetting = { mac: '00:16:3e:00:00:0a', bridge: 'br0', ip: '10.0.0.2', rateBytesPerSec: 12_500_000 };
const B: VifSetting = { mac: '00:16:3e:00:00:0b' };

t.test('create plugs every vif after the disks, destroy releases them', async (t) => {
  const d = await fakeDom0();
  t.teardown(() => d.close());
  const g = await d.ts.create(settings(d, 'web', [A, B]));
  t.same(d.net!.calls, [['addVif', g.domid, 0, A], ['addVif', g.domid, 1, B]], 'devids are list indexes');
  t.equal(g.state, 'running');
  const info = await d.ts.info('web');
  t.match(info.vifs, [{ devid: 0, mac: A.mac, bridge: 'br0', tap: `vif${g.domid}.0`, state: 'Connected', counters: { txPackets: 3, rxDropped: 1 } },
    { devid: 1, mac: B.mac, bridge: null }], 'info shows each vif with its counters');
  await d.ts.destroy('web');
  await eventually(() => (d.net!.calls.some((c) => c[0] === 'removeDomain') ? true : undefined));
  t.same(d.net!.calls.at(-1), ['removeDomain', g.domid], 'the vifs go with the domain');
});

t.test('vifs without a network backend, and a backend that refuses', async (t) => {
  const bare = await fakeDom0({ net: false });
  t.teardown(() => bare.close());
  await t.rejects(bare.ts.create(settings(bare, 'x', [A])), { message: 'this dom0 has no network backend' });
  t.same(bare.ts.domains(), [], 'the half-built domain is destroyed');
  await bare.ts.create(settings(bare, 'novif'));
  await t.rejects(bare.ts.attachVif('novif', {}), { message: 'this dom0 has no network backend' });

  const d = await fakeDom0();
  t.teardown(() => d.close());
  d.net!.failNext = 'no such bridge br0';
  await t.rejects(d.ts.create(settings(d, 'y', [A])), { message: 'no such bridge br0' });
  await eventually(() => (d.net!.calls.some((c) => c[0] === 'removeDomain') ? true : undefined));
  t.same(d.ts.domains(), [], 'destroyed, and the backend told to release it');
});

t.test('a restarted domain gets its vifs back, hot-plugged ones included', async (t) => {
  const d = await fakeDom0();
  t.teardown(() => d.close());
  const g = await d.ts.create(settings(d, 'rb', [A]));
  const added = await d.ts.attachVif('rb', { bridge: 'br1' });
  t.equal(added.devid, 1, 'the next devid');
  t.match(added.mac, /^00:16:3e:/, 'a generated Xen-OUI MAC');
  d.net!.calls.length = 0;
  d.hv.shutdown(g.domid, 1); // reboot → on_reboot = restart
  const again = await eventually(() => d.ts.domains().find((x) => x.name === 'rb' && x.domid !== g.domid));
  t.ok(again, 'restarted with a new domid');
  await eventually(() => (d.net!.calls.filter((c) => c[0] === 'addVif').length === 2 ? true : undefined));
  t.same(d.net!.calls, [['removeDomain', g.domid], ['addVif', again!.domid, 0, { ...A, devid: 0 }], ['addVif', again!.domid, 1, added]]);
});

t.test('network-attach and -detach: devids, MACs, saved settings', async (t) => {
  const d = await fakeDom0();
  t.teardown(() => d.close());
  const g = await d.ts.create(settings(d, 'hp', [A, B]));
  const saved = (): readonly VifSetting[] => (JSON.parse(readFileSync(join(d.runDir, 'domains', `${g.domid}.json`), 'utf8')) as DomainSettings).vifs ?? [];

  const c = await d.ts.attachVif('hp', { mac: '00:16:3e:00:00:0c', ip: '10.0.0.9' });
  t.same(c, { mac: '00:16:3e:00:00:0c', ip: '10.0.0.9', devid: 2 });
  t.same(saved().map((v) => v.devid), [0, 1, 2], 'the saved settings have it (and explicit devids)');
  await t.rejects(d.ts.attachVif('hp', { mac: A.mac }), { message: `hp already has a vif with mac ${A.mac}` });
  await t.rejects(d.ts.attachVif('hp', { devid: 1 }), { message: 'hp already has a vif with devid 1' });

  const gone = await d.ts.detachVif('hp', { devid: 1 });
  t.equal(gone.mac, B.mac);
  t.same(d.net!.calls.at(-1), ['removeVif', g.domid, 1]);
  t.same(saved().map((v) => v.devid), [0, 2], 'devid 2 keeps its handle');
  t.same(d.ts.vifs(g).map((v) => v.devid), [0, 2]);
  await d.ts.detachVif('hp', { mac: '00:16:3e:00:00:0c' });
  t.same(saved().map((v) => v.mac), [A.mac]);
  await t.rejects(d.ts.detachVif('hp', { devid: 7 }), { message: 'domain hp has no vif with devid 7' });

  // Two attaches at once take different devids.
  const [x, y] = await Promise.all([d.ts.attachVif('hp', {}), d.ts.attachVif('hp', {})]);
  t.not(x.devid, y.devid);
  t.not(x.mac, y.mac);
  for (let i = d.ts.vifs(g).length; i < 8; i++) await d.ts.attachVif('hp', {});
  await t.rejects(d.ts.attachVif('hp', {}), { message: 'hp already has 8 vifs' });
  await t.rejects(d.ts.attachVif('nosuch', {}), { message: "no domain 'nosuch'" });
});

t.test('an adopted domain: configured vifs no backend serves show as NotServed and can be dropped', async (t) => {
  const d = await fakeDom0();
  t.teardown(() => d.close());
  const g = await d.ts.create(settings(d, 'ad', [A]));
  await d.net!.removeDomain(g.domid); // as after a dom0 restart: the new netback serves nothing yet
  t.match(d.ts.vifs(g), [{ devid: 0, mac: A.mac, state: 'NotServed', tap: null, bridge: 'br0' }]);
  d.net!.calls.length = 0;
  await d.ts.detachVif('ad', { devid: 0 });
  t.same(d.net!.calls, [], 'nothing to ask the backend');
  t.same(d.ts.vifs(g), []);
});
