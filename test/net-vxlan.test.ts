// net-vxlan.test.ts: "where a user outgrows one machine" — two hosts, each a network namespace
// running its OWN pvkvm daemons (own run directory; dom0 runs inside the namespace, so its TAP
// devices are made there), each with a Linux bridge that carries a VXLAN port (VNI 42) over an
// underlay veth link between the two namespaces. A guest on each host's bridge (the overlay
// 10.Z.0.0/24) reaches the other: ping, then UDP datagrams of a full 1500-byte MTU at a paced
// rate, none lost, in order, every checksum verified. See docs/network.md ("Two hosts: VXLAN").
// Needs root, /dev/net/tun, iproute2 and VXLAN: under CI=true their absence fails, otherwise the
// test is skipped visibly.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, type TestDaemons } from './helpers/daemons.ts';
import { hostNetMissing, ip, netConfig, removeQuietly, report, result, runId, startDomain, vifConnected } from './helpers/net.ts';

const id = runId();
const HOSTS = [`pvkxa${id}`, `pvkxb${id}`] as const;
const UNDERLAY = [`192.168.${200 + (process.pid % 50)}.1`, `192.168.${200 + (process.pid % 50)}.2`] as const;
const OVERLAY = `10.202.${process.pid % 250}`;
const GUEST_IP = [`${OVERLAY}.2`, `${OVERLAY}.3`] as const;
const COUNT = 5000;

const why = hostNetMissing(['bridge', 'vxlan']);
if (why !== null) {
  if (process.env.CI === 'true') t.fail(`net-vxlan needs root, TUN, iproute2, netns and VXLAN: ${why}`);
  else t.test('two hosts joined by VXLAN', { skip: `needs root, TUN, iproute2, netns and VXLAN: ${why}` }, async () => undefined);
} else {
  t.teardown(() => { for (const ns of HOSTS) removeQuietly('netns', ns); });

  t.test('two hosts, each with its own daemons, joined by VXLAN: guests ping and exchange UDP', kvmTest(), async (t) => {
    // The underlay: one veth pair between the two "hosts", MTU 1600 so that the overlay keeps a
    // full 1500 bytes after VXLAN's 50 (as one would give a real underlay jumbo frames).
    for (const ns of HOSTS) ip('netns', 'add', ns);
    ip('link', 'add', 'ul0', 'netns', HOSTS[0], 'mtu', '1600', 'type', 'veth', 'peer', 'name', 'ul0', 'netns', HOSTS[1], 'mtu', '1600');
    const daemons: TestDaemons[] = [];
    t.teardown(async () => { for (const d of daemons) await d.down(); });
    for (const [i, ns] of HOSTS.entries()) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `${UNDERLAY[i]}/24`, 'dev', 'ul0');
      ip('-n', ns, 'link', 'set', 'ul0', 'up');
      // The host's bridge (every host calls it br0: they are different machines) and its VXLAN port.
      ip('-n', ns, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', ns, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'remote', UNDERLAY[1 - i]!, 'local', UNDERLAY[i]!, 'dstport', '4789', 'dev', 'ul0');
      ip('-n', ns, 'link', 'set', 'vx0', 'mtu', '1500', 'master', 'br0', 'up');
      ip('-n', ns, 'link', 'set', 'br0', 'up');
      daemons.push(await startDaemons({ netns: ns }));
    }
    const [da, db] = daemons as [TestDaemons, TestDaemons];
    t.not(da.runDir, db.runDir, 'two run directories');
    t.not(da.pid('dom0'), db.pid('dom0'), 'two dom0 daemons');

    // --- ping across ---
    const a = startDomain(da, 'va', netConfig(da, 'va', `mode=responder ip=${GUEST_IP[0]} duration=240`, [`bridge=br0,ip=${GUEST_IP[0]}`]));
    const av = await vifConnected(da, 'va');
    t.ok(av, 'host A\'s guest is connected');
    if (!av) return;
    t.match(ip('-n', HOSTS[0], '-o', 'link', 'show', 'master', 'br0'), new RegExp(`${av.tap!.replace('.', '\\.')}[:@]`), `its TAP ${av.tap} is on host A's bridge, inside host A's namespace`);
    await a.waitFor(/net: responder on port 7000/);
    const ping = await startDomain(db, 'vb', netConfig(db, 'vb', `mode=ping ip=${GUEST_IP[1]} peer=${GUEST_IP[0]} count=10 size=1472`, [`bridge=br0,ip=${GUEST_IP[1]}`])).ended;
    t.equal(result(ping.stdout), 'SUCCESS', ping.stdout);
    t.match(report(ping.stdout, 'ping'), { sent: 10, received: 10, lost: 0 }, 'host B\'s guest pings host A\'s over VXLAN (1500-byte packets)');
    t.equal((await da.cli(['destroy', 'va'])).code, 0);
    await a.ended;

    // --- paced UDP across, both directions' guests on their own daemons ---
    const recv = startDomain(da, 'ra', netConfig(da, 'ra', `mode=udp-recv ip=${GUEST_IP[0]} count=${COUNT} timeout=120`, [`bridge=br0,ip=${GUEST_IP[0]}`]));
    await recv.waitFor(/net: listening on UDP port 7000/);
    const rv = await vifConnected(da, 'ra');
    // Frames from the VXLAN port wait in the TAP's queue for dom0 (txqueuelen frames); on a shared
    // 2-core test machine dom0 can sleep longer than 1000 frames take. Correctness, not scheduling.
    if (rv?.tap) ip('-n', HOSTS[0], 'link', 'set', rv.tap, 'txqueuelen', String(2 * COUNT));
    const send = await startDomain(db, 'sb', netConfig(db, 'sb', `mode=udp-send ip=${GUEST_IP[1]} peer=${GUEST_IP[0]} count=${COUNT} size=1472 rate=1000`, [`bridge=br0,ip=${GUEST_IP[1]}`])).ended;
    const got = await recv.ended;
    t.equal(result(send.stdout), 'SUCCESS', send.stdout);
    t.equal(result(got.stdout), 'SUCCESS', got.stdout);
    t.match(report(send.stdout, 'udp-send'), { sent: COUNT, bytes: COUNT * 1472 });
    t.match(report(got.stdout, 'udp-recv'), { received: COUNT, lost: 0, reordered: 0, duplicates: 0, bad: 0, bytes: COUNT * 1472 }, 'every datagram crossed, in order');
    t.match(got.stdout, /net: stats .*rx_bad_csum=0 /, 'every checksum verified by the receiving guest');

    // The underlay really carried it: host A's VXLAN port received at least that many frames.
    const stats = JSON.parse(ip('-n', HOSTS[0], '-s', '-j', 'link', 'show', 'vx0')) as { stats64: { rx: { packets: number } } }[];
    t.ok(stats[0]!.stats64.rx.packets >= COUNT, `vx0 on host A received ${stats[0]!.stats64.rx.packets} frames`);
    t.same(await Promise.all(daemons.map(async (d) => (await d.cli(['list', '--json'])).code)), [0, 0], 'both hosts\' daemons still answer');
  });
}
