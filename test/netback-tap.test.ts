// netback-tap.test.ts: a bridged vif on the host — its TAP (vifDOMID.HANDLE) joins a host bridge,
// a veth pair connects the bridge to a network namespace, and real UDP crosses both ways: a mock
// netfront's packet (checksum offloaded, filled by netback) reaches a socket in the namespace, and
// a datagram sent from the namespace arrives in the frontend's RX buffers. Needs root, TUN and
// iproute2: under CI=true their absence fails the test, otherwise it is skipped visibly.
import t from 'tap';
import { execFileSync, execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Netback } from '../dom0/netback/index.ts';
import { MockDom0, bundleWorker, until, openFdCount } from './helpers/mock-frontend.ts';
import { MockNetfront, frame, mac, RSP } from './helpers/mock-netfront.ts';

const run = promisify(execFile);
const id = process.pid % 1000;
const BR = `pvkbr${id}`;
const NS = `pvkns${id}`;
const VETH = `pvkv${id}`;
const DOMID = 30000 + id;
const TAP = `vif${DOMID}.0`;
const VIF_MAC = '00:16:3e:7a:00:01';
const GUEST_IP = [10, 199, id % 250, 1];
const NS_IP = [10, 199, id % 250, 2];
const ip = (...a: string[]): string => execFileSync('ip', a, { encoding: 'utf8' });

function missing(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  try { ip('-V'); } catch { return 'no iproute2'; }
  try { ip('netns', 'add', NS); } catch (e) { return `cannot create a network namespace: ${(e as Error).message.split('\n')[0]}`; }
  return null;
}

const why = missing();
if (why !== null) {
  if (process.env.CI === 'true') t.fail(`TAP test needs root, TUN, iproute2 and netns: ${why}`);
  else t.test('a bridged vif exchanges UDP with a namespace behind the host bridge', { skip: `needs root, TUN, iproute2 and netns: ${why}` }, async () => undefined);
} else {
  t.teardown(() => {
    for (const a of [['netns', 'del', NS], ['link', 'del', BR]]) try { ip(...a); } catch { /* already gone */ }
  });
  ip('link', 'add', 'name', BR, 'type', 'bridge');
  ip('link', 'set', BR, 'up');
  ip('link', 'add', VETH, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS);
  ip('link', 'set', VETH, 'master', BR, 'up');
  ip('-n', NS, 'addr', 'add', `${NS_IP.join('.')}/24`, 'dev', 'eth0');
  ip('-n', NS, 'link', 'set', 'eth0', 'up');
  // The mock guest answers no ARP: tell the namespace where the guest is.
  ip('-n', NS, 'neigh', 'add', GUEST_IP.join('.'), 'lladdr', VIF_MAC, 'dev', 'eth0');
  const nsMac = ip('netns', 'exec', NS, 'cat', '/sys/class/net/eth0/address').trim();

  t.test('a bridged vif exchanges UDP with a namespace behind the host bridge', async (t) => {
    const dom0 = new MockDom0();
    const nb = new Netback(dom0.ctx, { workerUrl: await bundleWorker('dom0/netback/worker.ts') });
    t.teardown(async () => { await nb.close(); dom0.close(); });
    const fds = openFdCount();
    await t.rejects(nb.addVif(DOMID, 1, { mac: '00:16:3e:7a:00:02', bridge: 'nosuchbr0' }), /host bridge nosuchbr0 does not exist/);
    t.notOk(existsSync(`/sys/class/net/vif${DOMID}.1`), 'no TAP left behind by the failed add');
    t.equal(openFdCount(), fds, 'nor its fd');

    dom0.guest(DOMID);
    await nb.addVif(DOMID, 0, { mac: VIF_MAC, bridge: BR });
    t.equal(readFileSync(`/sys/class/net/${TAP}/master/uevent`, 'utf8').match(/INTERFACE=(\S+)/)?.[1], BR, `${TAP} is on ${BR}`);
    const fe = new MockNetfront(dom0, DOMID, 0);
    await fe.connect();
    fe.postRx(32);
    t.same(nb.list(DOMID).map((s) => [s.tap, s.bridge]), [[TAP, BR]]);

    // Guest → namespace: a UDP datagram with its checksum left to netback (csum_blank).
    const listener = run('ip', ['netns', 'exec', NS, process.execPath, '-e', `
      const s = require('node:dgram').createSocket('udp4');
      s.on('message', (m) => { process.stdout.write(m.toString()); process.exit(0); });
      s.bind(9999, () => process.stdout.write('ready\\n'));
      setTimeout(() => process.exit(3), 20000);`]);
    await new Promise((r) => setTimeout(r, 500)); // let it bind; the send below retries anyway
    const payload = new TextEncoder().encode('hello from the guest');
    const udp = new Uint8Array(28 + payload.length);
    udp.set([0x45, 0, 0, udp.length, 0, 0, 0x40, 0, 64, 17, 0, 0, ...GUEST_IP, ...NS_IP]);
    // IPv4 header checksum (netback only fills the transport one).
    let s = 0; for (let i = 0; i < 20; i += 2) s += (udp[i]! << 8) | udp[i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    udp[10] = (~s >> 8) & 0xff; udp[11] = ~s & 0xff;
    udp.set([0x1e, 0x61, 0x27, 0x0f, 0, 8 + payload.length, 0xab, 0xcd], 20);
    udp.set(payload, 28);
    const pkt = frame(nsMac, VIF_MAC, udp, 0x0800);
    let got = '';
    void listener.then((r) => { got = r.stdout; }, (e: { stdout?: string }) => { got = e.stdout ?? 'failed'; });
    for (let i = 0; i < 40 && !got.includes('hello'); i++) {
      t.equal((await fe.send([pkt], { flags: 1 })).at(-1)?.status, RSP.OKAY);
      await new Promise((r) => setTimeout(r, 250));
    }
    t.match(got, /hello from the guest/, 'the namespace socket received it (so the checksum netback filled is right)');

    // Namespace → guest: a datagram to the guest's address arrives in the frontend's RX buffers.
    await run('ip', ['netns', 'exec', NS, process.execPath, '-e', `
      const s = require('node:dgram').createSocket('udp4');
      s.send('hello from the namespace', 7777, '${GUEST_IP.join('.')}', () => s.close());`]);
    const rx = await until(() => { fe.pollRx(); return fe.received.find((p) => new TextDecoder().decode(p.data).includes('hello from the namespace')); }, 30_000, 'the datagram');
    t.same(rx.data.subarray(0, 6), mac(VIF_MAC), 'addressed to the vif');
    t.ok(nb.list(DOMID)[0]!.counters.rxPackets >= 1);

    await nb.removeDomain(DOMID);
    t.notOk(existsSync(`/sys/class/net/${TAP}`), 'the TAP is gone with the domain');
  });
}
