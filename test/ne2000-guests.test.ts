// ne2000-guests.test.ts: the `network` guest over the emulated NE2000 (vif model=ne2k_isa) and a PV
// `network` guest on the same internal switch — pings both ways, UDP echo, and numbered UDP
// streams checked byte for byte in both directions, with the NE2000 driver polled and on IRQ 9;
// the same stream over PV↔PV arrives identically. No timing thresholds: rates are workload parameters.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually, processFds, type TestDaemons } from './helpers/daemons.ts';
import { guestPath, type RunResult } from './helpers/run-guest.ts';

function netConfig(d: TestDaemons, name: string, cmdline: string, vif: string): string {
  const lines = [`name = "${name}"`, `kernel = "${guestPath('network')}"`, 'memory = 32', `cmdline = "${cmdline}"`, `vif = [ '${vif}' ]`];
  const file = join(d.runDir, `${name}.cfg`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const run = (d: TestDaemons, cfg: string): Promise<RunResult> => d.cli(['create', cfg, '-c'], 120_000);
const result = (r: RunResult): string | undefined => /Test result: (\w+)/.exec(r.stdout)?.[1];

function report(r: RunResult, kind: string): Record<string, number> | undefined {
  const line = [...r.stdout.matchAll(new RegExp(`^net: ${kind} (\\w+=.*)$`, 'gm'))].pop()?.[1];
  if (line === undefined) return undefined;
  return Object.fromEntries([...line.matchAll(/(\w+)=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
}

const NE2K = 'model=ne2k_isa';
const PV = '';
/**
 * Paced gently: the NE2000's wire queue is the socket's (net.unix.max_dgram_qlen, often 10 frames)
 * plus ~9 frames of card ring, so a receiving guest descheduled on a loaded host would drop a fast
 * stream, as a real NE2000 overruns. Loss is what the benchmark measures; here every byte must arrive.
 */
const COUNT = 300;
const RATE = 150;
const SIZE = 1472;
/** What a receiver of COUNT numbered SIZE-byte datagrams must report: all of them, every byte checked. */
const INTACT = { received: COUNT, lost: 0, reordered: 0, duplicates: 0, bad: 0, bytes: COUNT * SIZE };

t.test('the network guest over the NE2000 and over netfront, one switch', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  /** The hypervisor's fds once the first round's domains are gone (the first domain opens some for good). */
  let hvFds = -1;
  const quiet = async (): Promise<number> => {
    await eventually(async () => ((JSON.parse((await d.cli(['list', '--json'])).stdout) as unknown[]).length === 0 ? true : undefined), 30_000);
    return processFds(d.pid('hypervisor'));
  };
  /** The PV ↔ PV stream, run once: the reference the NE2000 streams must match. */
  let pvToPv: Record<string, number> | undefined;
  for (const mode of ['polled', 'irq'] as const) await t.test(`NE2000 ${mode}: ping both ways, UDP echo, streams both ways`, async (t) => {
    const ne = `ne2k.mode=${mode}`;
    const net = (n: number): string => `10.0.${mode === 'irq' ? 20 : 10}.${n}`;

    // The NE2000 guest answers; the PV guest pings and UDP-pings it.
    let responder = run(d, netConfig(d, 'ne-resp', `mode=responder ip=${net(2)} duration=60 ${ne}`, NE2K));
    const ping = await run(d, netConfig(d, 'pv-ping', `mode=ping ip=${net(3)} peer=${net(2)} count=10 size=1000`, PV));
    t.equal(result(ping), 'SUCCESS', 'PV pinger', { output: ping.stdout });
    t.match(report(ping, 'ping'), { sent: 10, received: 10, lost: 0 }, 'PV → NE2000 pings');
    const uping = await run(d, netConfig(d, 'pv-uping', `mode=udp-ping ip=${net(4)} peer=${net(2)} count=10 size=1400`, PV));
    t.match(report(uping, 'udp-ping'), { sent: 10, received: 10, lost: 0 }, 'PV → NE2000 UDP echo');
    t.equal((await d.cli(['destroy', 'ne-resp'])).code, 0);
    let r = await responder;
    t.match(r.stdout, /^net: nic ne2k_isa@0x300 irq 9 .*driver=ne2000$/m, 'the responder ran on the NE2000');

    // The PV guest answers; the NE2000 guest pings it.
    responder = run(d, netConfig(d, 'pv-resp', `mode=responder ip=${net(5)} duration=60`, PV));
    const nping = await run(d, netConfig(d, 'ne-ping', `mode=ping ip=${net(6)} peer=${net(5)} count=10 size=1000 ${ne}`, NE2K));
    t.equal(result(nping), 'SUCCESS', 'NE2000 pinger', { output: nping.stdout });
    t.match(report(nping, 'ping'), { sent: 10, received: 10, lost: 0 }, 'NE2000 → PV pings');
    const nuping = await run(d, netConfig(d, 'ne-uping', `mode=udp-ping ip=${net(7)} peer=${net(5)} count=10 size=1400 ${ne}`, NE2K));
    t.match(report(nuping, 'udp-ping'), { sent: 10, received: 10, lost: 0 }, 'NE2000 → PV UDP echo');
    t.equal((await d.cli(['destroy', 'pv-resp'])).code, 0);
    r = await responder;
    t.match(r.stdout, /driver=netfront/, 'the responder ran on netfront');

    // Numbered datagrams, paced so no queue overflows; each receiver checks every payload byte.
    const stream = async (label: string, recvVif: string, sendVif: string, a: number, b: number): Promise<Record<string, number> | undefined> => {
      const recvNe = recvVif === NE2K ? ne : '';
      const sendNe = sendVif === NE2K ? ne : '';
      const recv = run(d, netConfig(d, `${label}-rx`, `mode=udp-recv ip=${net(a)} count=${COUNT} timeout=60 ${recvNe}`, recvVif));
      const send = await run(d, netConfig(d, `${label}-tx`, `mode=udp-send ip=${net(b)} peer=${net(a)} count=${COUNT} size=${SIZE} rate=${RATE} ${sendNe}`, sendVif));
      const got = await recv;
      t.equal(result(send), 'SUCCESS', `${label}: sender`);
      t.match(report(send, 'udp-send'), { sent: COUNT, bytes: COUNT * SIZE }, `${label}: all sent`);
      t.equal(result(got), 'SUCCESS', `${label}: receiver`);
      const u = report(got, 'udp-recv');
      t.match(u, INTACT, `${label}: every datagram, byte for byte`, { output: got.stdout });
      return u;
    };
    const neToPv = await stream('ne2pv', PV, NE2K, 8, 9);
    const pvToNe = await stream('pv2ne', NE2K, PV, 10, 11);
    pvToPv ??= await stream('pv2pv', PV, PV, 12, 13);
    const bytes = (u?: Record<string, number>) => u && { received: u.received, bytes: u.bytes, bad: u.bad, lost: u.lost };
    t.same(bytes(neToPv), bytes(pvToPv), 'NE2000 → PV delivers the same stream as PV → PV');
    t.same(bytes(pvToNe), bytes(pvToPv), 'PV → NE2000 delivers the same stream as PV → PV');
    if (hvFds < 0) hvFds = await quiet();
  });
  // Each NE2000 domain had a wire, an epoll set, a stop eventfd and a watcher thread: all gone.
  const after = await eventually(async () => {
    const n = await quiet();
    return n <= hvFds ? n : undefined;
  }, 30_000);
  t.ok(after !== undefined, `the second round left the hypervisor no fds (${hvFds} before it, ${processFds(d.pid('hypervisor'))} after)`);
});
