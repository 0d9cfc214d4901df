// net-lifecycle.test.ts: vifs come and go without leaking. Through the real daemons:
//   - 50 create/destroy cycles of a `network` guest with a vif on the internal switch — even
//     cycles ping a resident peer and end by themselves (netfront closes its side), odd ones are
//     destroyed while their vif is Connected — leave dom0's and the hypervisor's open fds exactly
//     where they were after cycle 10, no guest memory mapped in dom0 but the peer's, and the RSS
//     of both daemons within a generous leak bound (as test/toolstack-leaks.test.ts);
//   - a guest flooding UDP at a peer, destroyed mid-flood, leaves no fd and no mapping of its
//     memory in dom0, and the peer still answers another guest, losing nothing: on the internal
//     switch, and (where the host allows bridges) through TAPs on a host bridge.
import { RX_QUEUE_CAP } from '../dom0/netback/worker/vif-port.ts';
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, processFds, processRssKiB, eventually, type TestDaemons } from './helpers/daemons.ts';
import { guestPath } from './helpers/run-guest.ts';
import { hostNetMissing, ip, netConfig, removeQuietly, report, result, runId, startDomain } from './helpers/net.ts';
import { ControlClient } from '../cli/control-client.ts';
import { xenOuiMac } from '../abi/domain-settings.ts';
import type { VifStatus } from '../abi/control.ts';

const CYCLES = 50;
const BASELINE_CYCLE = 10;
/** Generous: V8's heap grows and shrinks on its own schedule; a leak of ~1 MiB per domain would show. */
const RSS_SLACK_KIB = 40 * 1024;

/** dom0's mappings of guest memory files (the hypervisor's memfds are named pvkvm-DOMAIN). */
function guestMappings(pid: number, name = ''): number {
  return readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter((l) => l.includes(`/memfd:pvkvm-${name}`)).length;
}

interface Snapshot { hvFds: number; d0Fds: number; d0Maps: number; hvRss: number; d0Rss: number }

function snapshot(d: TestDaemons): Snapshot {
  const hv = d.pid('hypervisor');
  const d0 = d.pid('dom0');
  return { hvFds: processFds(hv), d0Fds: processFds(d0), d0Maps: guestMappings(d0), hvRss: processRssKiB(hv), d0Rss: processRssKiB(d0) };
}

/** Wait (briefly) for the counts to settle back to `want`: teardown finishes asynchronously. */
async function settled(d: TestDaemons, want: Snapshot): Promise<Snapshot> {
  const same = (s: Snapshot): boolean => s.hvFds === want.hvFds && s.d0Fds === want.d0Fds && s.d0Maps === want.d0Maps;
  return (await eventually(() => { const s = snapshot(d); return same(s) ? s : undefined; }, 5000)) ?? snapshot(d);
}

/** A host bridge for the bridged cycles, or null where this host cannot make one. */
const BRIDGE = hostNetMissing() === null ? `pvkl${runId()}` : null;

t.test('vif lifecycles leak nothing', kvmTest(), async (t) => {
  if (BRIDGE !== null) {
    ip('link', 'add', BRIDGE, 'type', 'bridge');
    t.teardown(() => removeQuietly('link', BRIDGE));
  } else {
    t.comment('no host bridge here (not root, or no TUN): every cycle is on the internal switch');
  }
  const d = await startDaemons();
  t.teardown(() => d.down());
  const c = await ControlClient.connect(d.runDir);
  t.teardown(() => c.close());
  const vifs = async (domain: string): Promise<VifStatus[]> => c.request<VifStatus[]>('network-list', { domain }).catch(() => []);
  const connected = (domain: string): Promise<true | undefined> =>
    eventually(async () => ((await vifs(domain))[0]?.state === 'Connected' ? true : undefined), 60_000);

  // A resident peer on the switch for the whole test.
  const peer = startDomain(d, 'peer', netConfig(d, 'peer', 'mode=responder ip=10.0.8.2 duration=600'));
  await peer.waitFor(/net: responder on port 7000/);

  t.test(`${CYCLES} create/destroy cycles of a guest with a vif are flat`, async (t) => {
    const settings = (i: number, cmdline: string) => ({
      name: `cyc-${i}`, kernel: guestPath('network'), cmdline, memoryMiB: 32, vcpus: 1, modules: [],
      onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy',
      vifs: [{ mac: xenOuiMac(`cyc-${i}`, 0), ...(BRIDGE !== null && i % 4 === 3 ? { bridge: BRIDGE } : {}) }],
    });
    const cycle = async (i: number): Promise<void> => {
      if (i % 2 === 0) {
        // Connects, pings the peer twice, closes its vif and powers off.
        const r = await c.request<{ domid: number }>('create', { settings: settings(i, `mode=ping ip=10.0.8.${10 + (i % 200)} peer=10.0.8.2 count=2`) });
        await c.request('wait', { domain: String(r.domid) }).catch(() => undefined);
      } else {
        // Destroyed with its vif Connected.
        const r = await c.request<{ domid: number }>('create', { settings: settings(i, `mode=responder ip=10.0.8.${10 + (i % 200)}`) });
        if (!await connected(String(r.domid))) t.fail(`cycle ${i}: the vif never connected`);
        if ((await vifs(String(r.domid)))[0]?.tap) tapped++;
        await c.request('destroy', { domain: String(r.domid) });
      }
    };
    let base: Snapshot | null = null;
    let tapped = 0;
    for (let i = 1; i <= CYCLES; i++) {
      await cycle(i);
      if (i === BASELINE_CYCLE) {
        await new Promise((r) => setTimeout(r, 300));
        base = snapshot(d);
      }
    }
    const after = await settled(d, base!);
    t.comment(`after cycle ${BASELINE_CYCLE}: ${JSON.stringify(base)}; after cycle ${CYCLES}: ${JSON.stringify(after)}`);
    t.same((await c.request<{ name: string }[]>('list')).map((x) => x.name), ['peer'], 'only the peer is left');
    t.equal(after.d0Fds, base!.d0Fds, `dom0's open fds: ${base!.d0Fds} after cycle ${BASELINE_CYCLE}, ${after.d0Fds} after cycle ${CYCLES}`);
    t.equal(after.hvFds, base!.hvFds, `the hypervisor's open fds: ${base!.hvFds} → ${after.hvFds}`);
    t.equal(after.d0Maps, base!.d0Maps, `dom0's mappings of guest memory: ${base!.d0Maps} → ${after.d0Maps}`);
    t.equal(guestMappings(d.pid('dom0'), 'cyc-'), 0, 'none of a cycled guest\'s memory is mapped in dom0');
    t.ok(after.d0Rss - base!.d0Rss < RSS_SLACK_KIB, `dom0 RSS ${base!.d0Rss} → ${after.d0Rss} KiB (leak bound ${RSS_SLACK_KIB} KiB over ${CYCLES - BASELINE_CYCLE} cycles)`);
    t.ok(after.hvRss - base!.hvRss < RSS_SLACK_KIB, `hypervisor RSS ${base!.hvRss} → ${after.hvRss} KiB`);
    t.match((await vifs('peer'))[0], { state: 'Connected' }, 'the peer\'s vif is still connected');
    if (BRIDGE !== null) {
      t.equal(tapped, Math.floor((CYCLES + 1) / 4), 'every fourth cycle had a TAP on the bridge');
      t.equal(ip('-o', 'link', 'show', 'master', BRIDGE).trim(), '', `no TAP left on ${BRIDGE} after ${tapped} bridged cycles`);
    }
  });

  /** A guest flooding `peerName` (a responder at NET.2, which echoes everything back) through
   * `vif`, destroyed mid-flood. */
  const floodCase = (label: string, peerName: string, net: string, vif: string, tag: string) =>
    t.test(`a guest destroyed mid-flood (${label}) leaks nothing and leaves its peer fine`, async (t) => {
      await new Promise((r) => setTimeout(r, 300));
      const base = snapshot(d);
      const peerBefore = (await vifs(peerName))[0]!.counters;
      // As fast as the ring takes them, far more than it will live to send; the peer echoes each.
      const name = `flood${tag}`;
      const flood = startDomain(d, name, netConfig(d, name, `mode=udp-send ip=${net}.3 peer=${net}.2 count=100000000 size=1472`, [vif]));
      t.ok(await eventually(async () => ((await vifs(name))[0]?.counters.txPackets ?? 0) > 5000 ? true : undefined, 60_000), 'the flood is under way');
      const fv = (await vifs(name))[0];
      t.equal(fv?.tap !== null, vif !== '', vif !== '' ? `through its TAP ${fv?.tap}` : 'on the internal switch');
      t.ok(guestMappings(d.pid('dom0'), name) >= 1, 'dom0 maps the flooder\'s memory while its vif is up');
      t.equal((await c.request<unknown>('destroy', { domain: name }).then(() => 0, (e: Error) => e.message)), 0, 'destroyed mid-flood');
      const f = await flood.ended;
      t.notMatch(f.stdout, /net: udp-send sent=/, 'it never finished');
      const after = await settled(d, base);
      t.equal(after.d0Fds, base.d0Fds, `dom0's open fds back to ${base.d0Fds}`);
      t.equal(after.hvFds, base.hvFds, `the hypervisor's open fds back to ${base.hvFds}`);
      t.equal(guestMappings(d.pid('dom0'), name), 0, 'no mapping of the flooder\'s memory left in dom0');
      t.equal(after.d0Maps, base.d0Maps, 'guest memory mappings back to the baseline');
      if (fv?.tap) t.notOk(existsSync(`/sys/class/net/${fv.tap}`), `its TAP ${fv.tap} is gone`);
      const peerAfter = (await vifs(peerName))[0]!;
      t.equal(peerAfter.state, 'Connected', 'the peer\'s vif is still connected');
      // How much of it the peer took depends on how often it ran; what reached its vif did not:
      // delivered, or dropped for want of buffers (counted), short of what still sat in its queue.
      const got = peerAfter.counters.rxPackets - peerBefore.rxPackets;
      const dropped = peerAfter.counters.rxDropped - peerBefore.rxDropped;
      t.ok(got > 0, `it received the flood (${got} delivered, ${dropped} dropped for want of buffers)`);
      t.ok(got + dropped >= 5000 - RX_QUEUE_CAP, 'every flooded frame reached its vif, delivered or counted');

      // The peer still answers, losing nothing.
      const pname = `after${tag}`;
      const ping = await startDomain(d, pname, netConfig(d, pname, `mode=udp-ping ip=${net}.4 peer=${net}.2 count=50 size=1000`, [vif])).ended;
      t.equal(result(ping.stdout), 'SUCCESS', ping.stdout);
      t.match(report(ping.stdout, 'udp-ping'), { sent: 50, received: 50, lost: 0 });
    });

  floodCase('internal switch', 'peer', '10.0.8', '', '');

  t.test('a vif hot-unplugged mid-flood closes cleanly and leaks nothing', async (t) => {
    await new Promise((r) => setTimeout(r, 300));
    const base = snapshot(d);
    const flood = startDomain(d, 'unplug', netConfig(d, 'unplug', 'mode=udp-send ip=10.0.8.5 peer=10.0.8.2 count=100000000 size=1472'));
    t.ok(await eventually(async () => ((await vifs('unplug'))[0]?.counters.txPackets ?? 0) > 5000 ? true : undefined, 60_000), 'the flood is under way');
    const det = await d.cli(['network-detach', 'unplug', '0']);
    t.equal(det.code, 0, `network-detach mid-flood: ${det.stderr}`);
    const f = await flood.ended;
    t.match(f.stdout, /netfront: device\/vif\/0: backend is (Closing|Closed|gone); closing/, 'netfront saw the backend close');
    t.match(f.stdout, /net: udp-send seq=\d+: -107/, 'the sender got ENOTCONN');
    t.match(f.stdout, /Test result: \w+/, 'the guest ended by itself');
    t.ok(await eventually(async () => ((await c.request<{ name: string }[]>('list')).some((x) => x.name === 'unplug') ? undefined : true), 30_000), 'and is gone');
    const after = await settled(d, base);
    t.equal(after.d0Fds, base.d0Fds, `dom0's open fds back to ${base.d0Fds}`);
    t.equal(after.hvFds, base.hvFds, `the hypervisor's open fds back to ${base.hvFds}`);
    t.equal(guestMappings(d.pid('dom0'), 'unplug'), 0, 'no mapping of its memory left in dom0');
    t.match((await vifs('peer'))[0], { state: 'Connected' }, 'the peer\'s vif is still connected');
  });

  if (BRIDGE !== null) {
    // The same through TAPs: a responder and the flooder on the host bridge, which forwards
    // between their TAP devices.
    t.test('a responder on the host bridge', async (t) => {
      ip('link', 'set', BRIDGE, 'up');
      const bpeer = startDomain(d, 'bpeer', netConfig(d, 'bpeer', 'mode=responder ip=10.0.9.2 duration=600', [`bridge=${BRIDGE}`]));
      await bpeer.waitFor(/net: responder on port 7000/);
      t.match((await vifs('bpeer'))[0], { bridge: BRIDGE, tap: /^vif\d+\.0$/, state: 'Connected' });
    });
    floodCase('host bridge', 'bpeer', '10.0.9', `bridge=${BRIDGE}`, 'b');
  }

  t.test('the peer ran throughout', async (t) => {
    t.equal(peer.child.exitCode, null, 'the peer is still running');
    t.equal((await c.request<unknown>('destroy', { domain: 'peer' }).then(() => 0, (e: Error) => e.message)), 0);
    t.match((await peer.ended).stdout, /net: responder on port 7000/);
  });
});
