// dom0-late-unbind.test.ts: dom0 unbinds a dead guest's channels after the hypervisor has reaped
// the guest (its cleanup always lags the death). That late unbind must not touch a new guest's
// channel bound meanwhile: the number stays dom0's until it unbinds it, as a Xen dom0 port. The
// test plays dom0 against a real hypervisor daemon and serves the new guest's console ring only
// when kicked, so a lost kick (or a lost notify back) ends it with no echo.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { kvmTest } from './helpers/kvm.ts';
import { hypervisorAlone } from './helpers/hypervisor-alone.ts';
import { guestPath } from './helpers/run-guest.ts';
import { eventually } from './helpers/daemons.ts';
import { GuestPages } from '../dom0/guest-pages.ts';
import { EpollSet } from '../host/epoll.ts';
import { libc } from '../host/libc.ts';
import { XenconsInterface, XENCONS } from '../abi/io/console.ts';
import type { CreateReplyMsg } from '../abi/privileged.ts';

const F = XenconsInterface.byName;
const ONE = new BigUint64Array([1n]);
/** Only bounds a failing run: a passing one ends as soon as the echo is back. */
const GIVE_UP_MS = 180_000;

t.test("dom0's late unbind of a dead guest's channel leaves a new guest's channel bound", kvmTest(), async (t) => {
  const { hv } = await hypervisorAlone(t, 'late-unbind');
  const dead = new Set<number>();
  hv.on('event', (ev) => { if (ev.what === 'dead') dead.add(ev.domid); });

  const create = async (name: string): Promise<CreateReplyMsg> => {
    const r = await hv.call({ op: 'create', create: {
      name, kernel: new Uint8Array(readFileSync(guestPath('console-echo'))), kernel_name: 'console-echo.elf',
      memory_mib: 32, vcpus: 1, cmdline: `timeout_ms=${GIVE_UP_MS}`, modules: [], start_paused: false, dom0_rings: true,
    } });
    if (r.response.body !== 'created') throw new Error('bad create reply');
    return r.response.created;
  };
  const bind = async (domid: number, port: number): Promise<{ channel: number; kickFd: number; notifyFd: number }> => {
    const r = await hv.call({ op: 'bind_interdomain', bind_interdomain: { domid, remote_port: port } });
    if (r.response.body !== 'channel' || r.fds.length !== 2) throw new Error('bad bind reply');
    return { channel: r.response.channel.channel, kickFd: r.fds[0]!, notifyFd: r.fds[1]! };
  };

  // Guest A: bound, then destroyed; dom0 has not cleaned up yet.
  const a = await create('late-unbind-a');
  const chA = await bind(a.info.domid, a.console_port);
  await hv.call({ op: 'destroy', destroy: { domid: a.info.domid } });
  t.ok(await eventually(() => (dead.has(a.info.domid) ? true : undefined), 60_000), 'guest A is dead');

  // Guest B starts and dom0 binds its console before finishing A's cleanup.
  const b = await create('late-unbind-b');
  const chB = await bind(b.info.domid, b.console_port);
  t.teardown(() => { for (const fd of [chA.kickFd, chA.notifyFd, chB.kickFd, chB.notifyFd]) libc.close(fd); });
  await hv.call({ op: 'unbind', unbind: { channel: chA.channel } });
  t.pass(`A's channel ${chA.channel} unbound late (B's is ${chB.channel})`);

  // Serve B's console ring, looking only when B kicks.
  const mem = await hv.call({ op: 'map_memory', map_memory: { domid: b.info.domid } });
  if (mem.response.body !== 'memory') throw new Error('bad map_memory reply');
  const pages = new GuestPages(mem.fds[0]!, mem.response.memory);
  t.teardown(() => pages.unmap());
  const ring = pages.page(b.console_pfn);
  const idx = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
  const epoll = new EpollSet(1);
  t.teardown(() => epoll.close());
  epoll.add(chB.kickFd, 1);
  const drain = new BigUint64Array(1);
  let out = '';
  let sent = false;
  let kicks = 0;
  const deadline = Date.now() + GIVE_UP_MS;
  while (!out.includes('got: hello\n') && Date.now() < deadline) {
    if (epoll.wait(1000).length === 0) continue;
    libc.read(chB.kickFd, drain, 8);
    kicks++;
    let cons = idx.getUint32(F.out_cons.offset, true);
    const prod = idx.getUint32(F.out_prod.offset, true);
    for (; cons !== prod; cons = (cons + 1) >>> 0) out += String.fromCharCode(ring[F.out.offset + (cons & (XENCONS.values.OUT_SIZE - 1))]!);
    idx.setUint32(F.out_cons.offset, cons, true);
    if (!sent && out.includes('echo ready\n')) {
      const line = 'hello\n';
      const p = idx.getUint32(F.in_prod.offset, true);
      for (let i = 0; i < line.length; i++) ring[F.in.offset + ((p + i) & (XENCONS.values.IN_SIZE - 1))] = line.charCodeAt(i);
      idx.setUint32(F.in_prod.offset, (p + line.length) >>> 0, true);
      sent = true;
    }
    libc.write(chB.notifyFd, ONE, 8);
  }
  t.ok(sent, `B's console output reached dom0 by kicks (${kicks} kicks): ${JSON.stringify(out.slice(-200))}`);
  t.match(out, /got: hello\n/, 'dom0 → B (notify) and B → dom0 (kick) both still work');

  await hv.call({ op: 'destroy', destroy: { domid: b.info.domid } });
  t.ok(await eventually(() => (dead.has(b.info.domid) ? true : undefined), 60_000), 'guest B is dead');
  await hv.call({ op: 'unbind', unbind: { channel: chB.channel } });
  t.pass("B's channel unbound after its death");
  const again = await hv.call({ op: 'unbind', unbind: { channel: chB.channel } }).then(() => 0, (e: { errno: number }) => e.errno);
  t.not(again, 0, 'a second unbind of the same channel is refused');
});
