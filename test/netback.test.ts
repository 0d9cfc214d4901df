// netback.test.ts: netback against mock netfronts — the xenbus handshake and its keys, frames
// forwarded between two vifs with their content, MAC learning and flooding, source-MAC
// enforcement, checksum offload, multi-slot packets both ways, the rate limit holding packets
// back, RX without buffers dropping (counted), and the NetBackend surface (list, removeVif).
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { Netback } from '../dom0/netback/index.ts';
import { MockDom0, bundleWorker, until } from './helpers/mock-frontend.ts';
import { MockNetfront, frame, RSP, RXF, TXF } from './helpers/mock-netfront.ts';
import { checksumOk } from '../dom0/netback/csum.ts';

const MAC = (d: number, h = 0): string => `00:16:3e:00:${d.toString(16).padStart(2, '0')}:${h.toString(16).padStart(2, '0')}`;
const BCAST = 'ff:ff:ff:ff:ff:ff';

async function setup(t: Test, o: { mtu?: number } = {}) {
  const dom0 = new MockDom0();
  const nb = new Netback(dom0.ctx, { workerUrl: await bundleWorker('dom0/netback/worker.ts'), mtu: o.mtu, unplugTimeoutMs: 2000 });
  t.teardown(async () => { await nb.close(); dom0.close(); });
  const vif = async (domid: number, o2: { rate?: number; split?: boolean; sg?: boolean; rx?: number } = {}) => {
    dom0.guest(domid);
    await nb.addVif(domid, 0, { mac: MAC(domid), ...(o2.rate ? { rateBytesPerSec: o2.rate } : {}) });
    const fe = new MockNetfront(dom0, domid, 0, { split: o2.split, sg: o2.sg });
    await fe.connect();
    if (o2.rx !== 0) fe.postRx(o2.rx ?? 64);
    return fe;
  };
  return { dom0, nb, vif };
}

t.test('handshake publishes the netif keys and refuses a frontend without request-rx-copy', async (t) => {
  const { dom0, nb, vif } = await setup(t);
  const a = await vif(1);
  const be = '/local/domain/0/backend/vif/1/0';
  const want = { 'feature-sg': '1', 'feature-rx-copy': '1', 'feature-rx-notify': '1', 'feature-gso-tcpv4': '0', 'feature-gso-tcpv6': '0',
    'feature-no-csum-offload': '0', 'multi-queue-max-queues': '1', mac: MAC(1), handle: '0', state: '4' };
  for (const [k, v] of Object.entries(want)) t.equal(dom0.store.read(`${be}/${k}`), v, `backend ${k}`);
  for (const [k, v] of Object.entries({ backend: be, 'backend-id': '0', handle: '0', mac: MAC(1) })) t.equal(dom0.store.read(`${a.fe}/${k}`), v, `frontend ${k}`);
  t.same(nb.list(1).map((s) => [s.devid, s.mac, s.state, s.tap, s.bridge]), [[0, MAC(1), 'Connected', null, null]]);

  dom0.guest(2);
  await nb.addVif(2, 0, { mac: MAC(2) });
  const b = new MockNetfront(dom0, 2, 0, { keys: { 'request-rx-copy': null } });
  await b.publish();
  await until(() => b.backendState() === 6, 30_000, 'Closed');
  t.match(dom0.lines.join('\n'), /request-rx-copy/, 'the log says why');
  await t.rejects(nb.addVif(2, 0, { mac: MAC(2) }), /already has vif 0/);
});

t.test('frames go from one vif to another with their content; unicast is learnt, broadcast flooded', async (t) => {
  const { nb, vif } = await setup(t);
  const [a, b, c] = [await vif(1), await vif(2, { split: true }), await vif(3)];
  // Broadcast from A reaches B and C; it teaches the switch where A is.
  const hello = frame(BCAST, MAC(1), 'hello everyone');
  t.same((await a.send([hello])).map((r) => r.status), [RSP.OKAY]);
  t.same((await b.waitRx(1))[0]!.data, hello, 'B got the broadcast byte for byte');
  t.same((await c.waitRx(1))[0]!.data, hello, 'C got it too');
  // B → A unicast (A known): only A gets it. Then A → B (B learnt from that).
  const payloads = Array.from({ length: 20 }, (_, i) => frame(MAC(1), MAC(2), randomBytes(60 + i * 70)));
  await b.send(payloads);
  const got = await a.waitRx(20);
  t.ok(got.every((p, i) => Buffer.from(p.data).equals(Buffer.from(payloads[i]!))), 'A got all 20 in order, intact');
  await a.send([frame(MAC(2), MAC(1), 'to B only')]);
  await b.waitRx(2);
  // An unknown unicast is flooded: C sees it.
  await a.send([frame(MAC(9), MAC(1), 'who is 9')]);
  await c.waitRx(2);
  await b.waitRx(3);
  t.equal(c.received.length, 2, 'C saw the broadcast and the unknown unicast, not the unicasts to A and B');
  t.equal(b.received.length, 3, 'B saw broadcast, its unicast and the flood');
  const s = nb.list(1)[0]!.counters;
  t.equal(s.txPackets, 3);
  t.equal(s.rxPackets, 20);
  t.equal(s.rxBytes, payloads.reduce((n, p) => n + p.length, 0));
  t.ok(b.notified(true) > 0, 'B was notified on its RX channel');
});

t.test('source-MAC enforcement: a spoofed frame is dropped and counted', async (t) => {
  const { nb, vif } = await setup(t);
  const [a, b] = [await vif(1), await vif(2)];
  const r = await a.send([frame(BCAST, MAC(7), 'spoofed'), frame(BCAST, MAC(1), 'honest')]);
  t.same(r.map((x) => x.status), [RSP.DROPPED, RSP.OKAY]);
  await b.waitRx(1);
  t.same(new TextDecoder().decode(b.received[0]!.data.subarray(14)), 'honest');
  t.equal(nb.list(1)[0]!.counters.txDropped, 1);
  t.equal(nb.list(1)[0]!.counters.txPackets, 1);
});

t.test('csum_blank: netback fills the UDP checksum and the receiver sees data_validated', async (t) => {
  const { vif } = await setup(t);
  const [a, b] = [await vif(1), await vif(2)];
  const udp = new Uint8Array(20 + 8 + 32);
  udp.set([0x45, 0, 0, udp.length, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  udp.set([0x30, 0x39, 0x00, 0x35, 0, 40, 0xde, 0xad], 20);
  udp.fill(0x5a, 28);
  const f = frame(MAC(2), MAC(1), udp, 0x0800);
  t.notOk(checksumOk(f), 'sent with a garbage checksum');
  await a.send([f], { flags: TXF.csum_blank });
  const [p] = await b.waitRx(1);
  t.ok(checksumOk(p!.data), 'delivered with a correct checksum');
  t.equal(p!.flags & RXF.data_validated, RXF.data_validated);
  const bad = frame(MAC(2), MAC(1), 'not ip');
  t.same((await a.send([bad], { flags: TXF.csum_blank })).map((r) => r.status), [RSP.ERROR], 'csum_blank on a non-IP frame is refused');
});

t.test('multi-slot packets: a 9000-byte MTU frame over several TX slots, delivered over several RX buffers', async (t) => {
  const { vif, nb } = await setup(t, { mtu: 9000 });
  const [a, b] = [await vif(1), await vif(2)];
  await vif(3, { sg: false });
  await b.send([frame(BCAST, MAC(2), 'B is here')]); // the switch learns where B is
  await a.waitRx(1);
  const big = frame(MAC(2), MAC(1), randomBytes(8986));
  const r = await a.send([big], { pieces: [1000, 3000, 4000, 1000] });
  t.same(r.map((x) => x.status), [0, 0, 0, 0], 'each slot answered OKAY');
  const [p] = await b.waitRx(1);
  t.ok(Buffer.from(p!.data).equals(Buffer.from(big)), 'reassembled byte for byte');
  t.same(p!.statuses, [4096, 4096, 808], 'over three RX buffers');
  t.equal(nb.list(3)[0]!.counters.rxDropped, 0);
  await a.send([frame(BCAST, MAC(1), randomBytes(5000))]);
  await b.waitRx(2);
  t.equal(nb.list(3)[0]!.counters.rxDropped, 1, 'a frontend without feature-sg cannot take a packet over one page: dropped');
  const tooBig = frame(MAC(2), MAC(1), randomBytes(9001));
  t.same((await a.send([tooBig])).map((x) => x.status).slice(0, 1), [RSP.ERROR], 'over the MTU: refused');
});

t.test('rate limit holds packets back on the ring instead of dropping them', async (t) => {
  const { nb, vif } = await setup(t);
  const [a, b] = await Promise.all([vif(1, { rate: 400 }), vif(2)]);
  // The bucket holds one full frame (1514 bytes): two 700-byte frames pass, the third waits ~2.5 s.
  for (let i = 0; i < 3; i++) a.queuePacket(frame(MAC(2), MAC(1), randomBytes(686)));
  a.pushTx();
  await b.waitRx(2);
  a.pollTx();
  t.equal(a.txDone.length, 2, 'the third packet is still on the ring, unanswered');
  t.equal(b.received.length, 2);
  await b.waitRx(3, 'the held packet');
  await until(() => { a.pollTx(); return a.txDone.length === 3; });
  t.same(a.txDone.map((r) => r.status), [0, 0, 0]);
  t.equal(nb.list(1)[0]!.counters.txDropped, 0, 'nothing dropped');
});

t.test("the rate's interval (xl's rate=…@INTERVAL) is published in libxl's form and sizes the burst", async (t) => {
  const { dom0, nb } = await setup(t);
  dom0.guest(1);
  await nb.addVif(1, 0, { mac: MAC(1), rateBytesPerSec: 1_000_000, rateIntervalUs: 20_000 });
  t.equal(dom0.store.read('/local/domain/0/backend/vif/1/0/rate'), '20000,20000', '20 000 bytes per 20 000 µs');
  dom0.guest(2);
  await nb.addVif(2, 0, { mac: MAC(2), rateBytesPerSec: 1_000_000 });
  t.equal(dom0.store.read('/local/domain/0/backend/vif/2/0/rate'), '50000,50000', "xl's default interval: 50 ms");
});

t.test('RX without posted buffers: a small queue, then drops counted in rxDropped', async (t) => {
  const { nb, vif } = await setup(t);
  const [a, b] = [await vif(1), await vif(2, { rx: 0 })];
  const frames = Array.from({ length: 300 }, (_, i) => frame(MAC(2), MAC(1), `packet ${i}`));
  await a.send(frames.slice(0, 150));
  await a.send(frames.slice(150));
  await until(() => nb.list(2)[0]!.counters.rxDropped === 44, 30_000, '44 drops');
  b.postRx(200);
  await b.waitRx(200);
  b.postRx(100);
  const got = await b.waitRx(256);
  t.equal(got.length, 256, 'the 256 queued packets arrive once buffers are posted');
  t.same(new TextDecoder().decode(got[255]!.data.subarray(14)), 'packet 255');
  t.equal(nb.list(2)[0]!.counters.rxPackets, 256);
});

t.test('removeVif closes through the handshake and removes the nodes; removeDomain releases everything', async (t) => {
  const { dom0, nb, vif } = await setup(t);
  const a = await vif(1);
  await vif(2);
  const closing = until(() => a.backendState() === 5, 30_000, 'backend Closing').then(() => a.close());
  await nb.removeVif(1, 0);
  await closing.catch(() => undefined);
  t.equal(dom0.store.read('/local/domain/0/backend/vif/1/0'), null, 'backend dir gone');
  t.equal(dom0.store.read(a.fe), null, 'frontend dir gone');
  t.same(nb.list().map((s) => s.domid), [2]);
  await nb.removeDomain(2);
  t.same(nb.list(), []);
  t.equal(dom0.liveMaps, 0, 'no grant left mapped');
  t.equal(nb.heldGrants, 0);
});

t.test('feature-persistent: maps are kept for the connection (posted RX buffers mapped ahead), released at its end', async (t) => {
  const { dom0, nb } = await setup(t);
  for (const d of [1, 2]) {
    dom0.guest(d);
    await nb.addVif(d, 0, { mac: MAC(d) });
  }
  t.equal(dom0.store.read('/local/domain/0/backend/vif/1/0/feature-persistent'), '1', 'offered');
  const a = new MockNetfront(dom0, 1, 0, { keys: { 'feature-persistent': '1' } });
  const b = new MockNetfront(dom0, 2, 0);
  await a.connect();
  await b.connect();
  const [ga, gb] = [dom0.guest(1), dom0.guest(2)];
  const [a0, b0] = [ga.liveMaps, gb.liveMaps];
  a.postRx(64);
  b.postRx(8);
  await b.send([frame(MAC(1), MAC(2), 'first')]);
  await a.waitRx(1);
  t.equal(ga.liveMaps - a0, 64, 'the first packet mapped every posted buffer of the persistent frontend, and they stay mapped');
  const calls = ga.mapCalls;
  for (let i = 2; i <= 6; i++) {
    await b.send([frame(MAC(1), MAC(2), `packet ${i}`)]);
    await a.waitRx(i);
  }
  t.equal(ga.mapCalls, calls, 'later packets into posted buffers need no map at all');
  t.same(a.received.map((p) => new TextDecoder().decode(p.data.subarray(14))), ['first', 'packet 2', 'packet 3', 'packet 4', 'packet 5', 'packet 6'], 'contents intact');
  await a.send([frame(MAC(2), MAC(1), 'back')]);
  await b.waitRx(1);
  t.equal(gb.liveMaps, b0, 'the frontend without the feature keeps nothing mapped between batches');
  await nb.removeDomain(1);
  t.equal(ga.liveMaps, 0, 'everything kept is released when the vif goes');
});

t.test('a frontend that closes and connects again is served again', async (t) => {
  const { dom0, vif } = await setup(t);
  const a = await vif(1);
  const b = await vif(2);
  await a.close();
  dom0.store.write(`${a.fe}/state`, '1'); // starts over: Initialising
  const again = new MockNetfront(dom0, 1, 0);
  await again.connect();
  again.postRx(8);
  await b.send([frame(MAC(1), MAC(2), 'welcome back')]);
  const [p] = await again.waitRx(1);
  t.equal(new TextDecoder().decode(p!.data.subarray(14)), 'welcome back');
  t.equal((await again.send([frame(MAC(2), MAC(1), 'thanks')])).at(-1)?.status, RSP.OKAY);
  await b.waitRx(1);
});

t.test('throughput over the mock (printed, not asserted)', async (t) => {
  const { vif, nb } = await setup(t);
  const [a, b] = [await vif(1), await vif(2, { rx: 0 })];
  await b.send([frame(BCAST, MAC(2), 'here')]);
  const N = 2000;
  const body = randomBytes(1500);
  const start = performance.now();
  let sent = 0;
  b.postRx(256);
  await until(() => {
    b.pollRx();
    if (b.rxPosted < 128) b.postRx(128);
    a.pollTx();
    let queued = 0;
    while (sent < N && a.txRoom > 0 && queued < 64) { a.queuePacket(frame(MAC(2), MAC(1), body)); sent++; queued++; }
    if (queued > 0) a.pushTx();
    // A receiver that posts buffers more slowly than the sender sends loses packets (counted).
    return b.received.length + nb.list(2)[0]!.counters.rxDropped >= N;
  }, 120_000, `${N} packets`);
  const s = (performance.now() - start) / 1000;
  const got = b.received.length;
  t.comment(`${N} frames of 1514 bytes guest→guest in ${s.toFixed(2)} s: ${(got / s).toFixed(0)} packets/s delivered, ${((got * 1514 * 8) / s / 1e6).toFixed(1)} Mbit/s, ${N - got} dropped for want of RX buffers`);
  t.equal(nb.list(1)[0]!.counters.txPackets, N, 'every packet was taken from the sender');
});
