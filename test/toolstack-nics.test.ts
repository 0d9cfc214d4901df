// toolstack-nics.test.ts: emulated NICs (model=ne2k_isa) in the toolstack — their wire fds closed when creation fails before netback takes them, listed with state, MAC, counters and model, and refused by network-attach/-detach (ISA has no hot-plug). Fake hypervisor, no KVM.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeDom0, type FakeDom0 } from './helpers/fake-dom0.ts';
import { eventually } from './helpers/daemons.ts';
import { pvkvm } from './helpers/run-guest.ts';
import { libc } from '../host/libc.ts';
import type { DomainSettings, VifSetting } from '../abi/domain-settings.ts';

function settings(d: FakeDom0, name: string, vifs: VifSetting[], extra: Partial<DomainSettings> = {}): DomainSettings {
  const kernel = join(d.runDir, 'k.elf');
  writeFileSync(kernel, 'not run: the hypervisor is fake');
  return { name, kernel, cmdline: '', memoryMiB: 32, vcpus: 1, modules: [], onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'destroy', vifs, ...extra };
}

const NIC: VifSetting = { mac: '00:16:3e:00:00:2a', model: 'ne2k_isa' };
const PV: VifSetting = { mac: '00:16:3e:00:00:0b' };

/** True once dom0's end of the wire is closed: a SEQPACKET read on the far end returns 0 (EOF). */
function dom0EndClosed(peer: number): boolean {
  return libc.read(peer, new Uint8Array(64), 64) === 0;
}

t.test('a creation that fails before netback takes the wire closes dom0\'s end', async (t) => {
  const d = await fakeDom0();
  t.teardown(() => d.close());
  // The PV vif is plugged first and refused: the NIC after it is never attached.
  d.net!.failNext = 'no such bridge';
  await t.rejects(d.ts.create(settings(d, 'a', [PV, NIC])), { message: 'no such bridge' });
  t.equal(d.hv.nicPeers.length, 1, 'the hypervisor made one wire');
  t.ok(dom0EndClosed(d.hv.nicPeers[0]!), 'its dom0 end is closed');
  t.notOk(d.net!.calls.some((c) => c[0] === 'addEmulatedNic'), 'netback never saw it');

  // A disk that cannot be served fails creation before any vif.
  await t.rejects(d.ts.create(settings(d, 'b', [NIC], { disks: [{ target: '/nonexistent.img', vdev: 'xvda', access: 'rw' } as never] })));
  t.equal(d.hv.nicPeers.length, 2);
  t.ok(dom0EndClosed(d.hv.nicPeers[1]!), 'closed after a disk failure too');
  t.same(d.ts.domains(), [], 'nothing half-built is left');
  for (const fd of d.hv.nicPeers) libc.close(fd);
});

t.test('an emulated NIC shows in info and network-list with its model; hot-plug is refused', async (t) => {
  const d = await fakeDom0();
  t.teardown(() => d.close());
  const g = await d.ts.create(settings(d, 'emu', [PV, NIC]));
  t.same(d.net!.calls.map((c) => c[0]), ['addVif', 'addEmulatedNic'], 'the PV vif and the NE2000 port, in vif order');
  t.notOk(dom0EndClosed(d.hv.nicPeers[0]!), 'the attached wire stays open');
  const info = await d.ts.info('emu');
  t.match(info.vifs, [
    { devid: 0, mac: PV.mac, state: 'Connected' },
    { devid: 1, mac: NIC.mac, state: 'Connected', model: 'ne2k_isa', tap: null, bridge: null, counters: { txPackets: 5, rxDropped: 2 } },
  ]);
  t.notOk('model' in (info.vifs as object[])[0]!, 'a PV vif has no model');

  const env = { PVKVM_RUN_DIR: d.runDir };
  const list = await pvkvm(['network-list', 'emu'], { env });
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, new RegExp(`^${g.domid}\\s+0\\s+${NIC.mac}\\s+1\\s+Connected .*\\(emulated ne2k_isa, no xenbus backend\\)$`, 'm'));
  const json = JSON.parse((await pvkvm(['network-list', 'emu', '--json'], { env })).stdout) as { model?: string }[];
  t.equal(json[1]!.model, 'ne2k_isa');

  const attach = await pvkvm(['network-attach', 'emu', 'model=ne2k_isa'], { env });
  t.not(attach.code, 0);
  t.match(attach.stderr, /model=ne2k_isa cannot be hot-plugged: the NE2000 is an ISA card \(no ISA hot-plug\)/);
  t.equal(attach.stderr.trim().split('\n').length, 1, 'one line');
  const detach = await pvkvm(['network-detach', 'emu', '1'], { env });
  t.not(detach.code, 0);
  t.match(detach.stderr, /vif 1 of emu is an emulated NE2000 \(model=ne2k_isa\): an ISA card cannot be unplugged/);
  t.equal(d.net!.calls.length, 2, 'the backend was not asked to plug or unplug anything');

  await d.ts.destroy('emu');
  await eventually(() => (d.net!.calls.some((c) => c[0] === 'removeDomain') ? true : undefined));
  t.ok(dom0EndClosed(d.hv.nicPeers[0]!), 'the wire goes with the domain');
  libc.close(d.hv.nicPeers[0]!);
});

t.test('netback lists its emulated NIC ports with the switch counters', async (t) => {
  const { Netback } = await import('../dom0/netback/index.ts');
  const { seqpacketPair } = await import('../host/packet-pair.ts');
  const nb = new Netback({ store: { watch: () => () => undefined } } as never, { workerUrl: new URL('../dist/netback-worker.js', import.meta.url) });
  t.teardown(() => nb.close());
  const [mine, dom0] = seqpacketPair();
  t.teardown(() => libc.close(mine));
  await nb.addEmulatedNic(7, 0, NIC, dom0);
  t.match(nb.list(7), [{ domid: 7, devid: 0, mac: NIC.mac, state: 'Connected', model: 'ne2k_isa', tap: null, bridge: null,
    counters: { txPackets: 0, rxPackets: 0 } }]);
  t.same(nb.list(8), [], 'per domain');
  await nb.removeDomain(7);
  t.same(nb.list(7), [], 'gone with the domain');
});
