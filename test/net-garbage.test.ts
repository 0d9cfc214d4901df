// net-garbage.test.ts: a guest that writes garbage into its vifs' shared rings (test/guests/
// netgarbage: it does netfront's handshake by hand, then writes hostile TX requests and bad RX
// buffers straight into the rings — zero and oversized sizes, an offset crossing the page, grant
// refs never made, a chain longer than its first slot says, a GSO extra never negotiated, a
// spoofed source MAC, a chain of 20 slots, TX and RX req_prod 1000 ahead of the ring) while two well-behaved `network` guests exchange paced
// UDP on the same internal switch. dom0 and the hypervisor survive, the garbage gets error
// responses or its vifs are disconnected (the guest checks each answer; netback's counters are
// read through `pvkvm network-list --json`), and the well-behaved pair loses nothing.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';
import { domainNames, netConfig, report, result, startDomain, vifsOf } from './helpers/net.ts';

const COUNT = 30_000;
const RATE = 2000;

t.test('a guest writing garbage into its rings harms neither dom0 nor the other vifs', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const pids = { hypervisor: d.pid('hypervisor'), dom0: d.pid('dom0') };

  const sink = startDomain(d, 'sink', netConfig(d, 'sink', `mode=udp-recv ip=10.0.7.2 count=${COUNT} timeout=200`));
  await sink.waitFor(/net: listening on UDP port 7000/);
  const source = startDomain(d, 'source', netConfig(d, 'source', `mode=udp-send ip=10.0.7.3 peer=10.0.7.2 count=${COUNT} size=1472 rate=${RATE}`));
  // The good traffic is flowing before the garbage starts.
  t.ok(await eventually(async () => ((await vifsOf(d, 'source'))[0]?.counters.txPackets ?? 0) > 200 ? true : undefined, 60_000), 'the pair is exchanging');

  const bad = startDomain(d, 'garbage', netConfig(d, 'garbage', 'hold_ms=4000', ['', '', ''], 'netgarbage'));
  await bad.waitFor(/netgarbage: done/, 90_000);
  // While the garbage guest holds, its vifs are still listed: what did netback count, and where
  // are they?
  const [v0, v1, v2] = await vifsOf(d, 'garbage');
  t.ok(v0 && v1 && v2, 'the three garbage vifs listed');
  t.comment(`garbage vifs: ${JSON.stringify([v0, v1, v2])}`);
  t.match(v0?.state, /^(Closing|Closed)$/, 'vif 0 was disconnected (the 20-slot chain)');
  t.match(v1?.state, /^(Closing|Closed)$/, 'vif 1 was disconnected (req_prod far ahead)');
  t.match(v2?.state, /^(Closing|Closed)$/, 'vif 2 was disconnected (RX req_prod far ahead)');
  t.ok((v0?.counters.txErrors ?? 0) >= 7, `vif 0: ${v0?.counters.txErrors} TX errors counted (7 malformed packets)`);
  t.ok((v0?.counters.txDropped ?? 0) >= 1, 'vif 0: the spoofed frame counted as dropped');
  t.ok((v0?.counters.txPackets ?? 0) >= 2, 'vif 0: its good frames counted');
  t.ok((v0?.counters.rxDropped ?? 0) >= 1, 'vif 0: the frame for its bad RX buffer counted as dropped');
  t.ok((v1?.counters.rxDropped ?? 0) >= 300 - 256, `vif 1 (no RX buffers posted): ${v1?.counters.rxDropped} of the 300 broadcasts dropped and counted (netback queues at most 256)`);
  t.equal(v1?.counters.rxPackets, 0, 'vif 1 received nothing');
  t.equal(sink.child.exitCode, null, 'the good pair was still exchanging when the garbage was done');

  const g = await bad.ended;
  t.equal(result(g.stdout), 'SUCCESS', g.stdout);
  for (const [what, status] of [
    ['vif1 good broadcast', 0], ['vif0 rx into a bad grant', -1], ['vif0 good frame', 0], ['vif0 size 0', -1],
    ['vif0 size 1600', -1], ['vif0 offset 4000 size 200 \\(crosses the page\\)', -1], ['vif0 grant ref 0xfffffff', -1],
    ['vif0 grant ref never granted', -1], ['vif0 chain longer than its first slot says', -1],
    ['vif0 GSO extra info \\(not negotiated\\)', -1],
    ['vif0 spoofed source MAC', -2], ['vif0 good frame after the garbage', 0], ['vif0 100 broadcasts \\(3\\)', 0],
  ] as const) t.match(g.stdout, new RegExp(`netgarbage: ${what}: status ${status}\\n`), `${what.replace(/\\/g, '')}: status ${status}`);
  t.match(g.stdout, /netgarbage: vif0 a chain of 20 slots: backend went (Closing|Closed)/);
  t.match(g.stdout, /netgarbage: vif1 req_prod 1000 ahead: backend went (Closing|Closed)/);
  t.match(g.stdout, /netgarbage: vif2 rx req_prod 1000 ahead: backend went (Closing|Closed)/);

  // The well-behaved pair: every datagram, in order.
  const [s, r] = [await source.ended, await sink.ended];
  t.equal(result(s.stdout), 'SUCCESS', s.stdout);
  t.equal(result(r.stdout), 'SUCCESS', r.stdout);
  t.match(report(s.stdout, 'udp-send'), { sent: COUNT });
  t.match(report(r.stdout, 'udp-recv'), { received: COUNT, lost: 0, reordered: 0, duplicates: 0, bad: 0 }, 'none lost');

  // The daemons are the same processes and still answer.
  for (const [k, pid] of Object.entries(pids)) t.doesNotThrow(() => process.kill(pid, 0), `the ${k} daemon (${pid}) is alive`);
  t.same(await domainNames(d), [], 'pvkvm list answers, with every domain gone');
});
