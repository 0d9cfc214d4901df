// netback-hostile.test.ts: frontends that break the netif rules — too many slots, zero, short and
// oversized lengths, data crossing a page, chains that claim more than the packet, bad grant refs,
// GSO extras that were not negotiated, TX and RX indices running ahead of the ring, bad RX buffers
// — each answered with an error or a disconnect of that vif alone, while another pair of vifs keeps
// being served. Also: fairness between a flooding guest and a quiet one, and a domain destroyed
// mid-traffic leaking no fd and no grant.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { Netback } from '../dom0/netback/index.ts';
import { MockDom0, bundleWorker, until, openFdCount } from './helpers/mock-frontend.ts';
import { MockNetfront, frame, RSP } from './helpers/mock-netfront.ts';
import { libc } from '../host/libc.ts';

const MAC = (d: number): string => `00:16:3e:00:00:${d.toString(16).padStart(2, '0')}`;
const BCAST = 'ff:ff:ff:ff:ff:ff';

async function setup(t: Test) {
  const dom0 = new MockDom0();
  const nb = new Netback(dom0.ctx, { workerUrl: await bundleWorker('dom0/netback/worker.ts') });
  t.teardown(async () => { await nb.close(); dom0.close(); });
  const vif = async (domid: number, rx = 64) => {
    dom0.guest(domid);
    await nb.addVif(domid, 0, { mac: MAC(domid) });
    const fe = new MockNetfront(dom0, domid, 0);
    await fe.connect();
    if (rx > 0) fe.postRx(rx);
    return fe;
  };
  const [b, c] = [await vif(2), await vif(3)];
  /** The bystanders still talk: B → C and C → B, content checked. */
  const bystandersOk = async (t: Test, tag: string) => {
    const f1 = frame(MAC(3), MAC(2), `B to C ${tag}`);
    const f2 = frame(MAC(2), MAC(3), `C to B ${tag}`);
    for (const fe of [b, c]) { fe.pollRx(); if (fe.rxPosted < 16) fe.postRx(32); }
    t.equal((await b.send([f1])).at(-1)?.status, RSP.OKAY, `${tag}: B can send`);
    t.equal((await c.send([f2])).at(-1)?.status, RSP.OKAY, `${tag}: C can send`);
    const has = (fe: MockNetfront, f: Uint8Array) => until(() => { fe.pollRx(); if (fe.rxPosted < 16) fe.postRx(32); return fe.received.some((p) => Buffer.from(p.data).equals(Buffer.from(f))); }, 30_000, tag);
    t.ok(await has(c, f1), `${tag}: C got B's frame`);
    t.ok(await has(b, f2), `${tag}: B got C's frame`);
  };
  return { dom0, nb, vif, b, c, bystandersOk };
}

/** Write raw slots, publish them, wait for `n` responses and return their statuses. */
async function raw(fe: MockNetfront, n: number, write: () => void): Promise<number[]> {
  const before = fe.txDone.length;
  write();
  fe.pushTx();
  await until(() => { fe.pollTx(); return fe.txDone.length >= before + n; }, 30_000, `${n} responses`);
  return fe.txDone.slice(before).map((r) => r.status);
}

t.test('a packet chained over more than 18 slots disconnects that vif only', async (t) => {
  const { nb, vif, bystandersOk } = await setup(t);
  const a = await vif(1);
  a.queuePacket(frame(BCAST, MAC(1), randomBytes(19 * 10 - 14)), { pieces: Array(19).fill(10) });
  a.pushTx();
  await until(() => a.backendState() === 6, 30_000, 'backend Closed');
  t.match(nb.list(1)[0]!.state, /Closed/);
  await bystandersOk(t, 'after the 19-slot chain');
});

t.test('lengths: zero, shorter than a header, over the frame limit, chain sizes past the first size', async (t) => {
  const { nb, vif, bystandersOk } = await setup(t);
  const a = await vif(1);
  const page = a.grantData(frame(BCAST, MAC(1), randomBytes(100)))[0]!;
  t.same(await raw(a, 1, () => a.writeTxSlot({ gref: page.gref, offset: 0, flags: 0, id: a.newId(), size: 0 })), [RSP.ERROR], 'size 0');
  t.same(await raw(a, 1, () => a.writeTxSlot({ gref: page.gref, offset: 0, flags: 0, id: a.newId(), size: 13 })), [RSP.ERROR], 'size 13');
  t.same(await raw(a, 1, () => a.writeTxSlot({ gref: page.gref, offset: 0, flags: 0, id: a.newId(), size: 1515 })), [RSP.ERROR], 'size 1515 > MTU + 14');
  t.same(await raw(a, 1, () => a.writeTxSlot({ gref: page.gref, offset: 0, flags: 0, id: a.newId(), size: 65535 })), [RSP.ERROR], 'size 65535');
  t.same(await raw(a, 2, () => {
    a.writeTxSlot({ gref: page.gref, offset: 0, flags: 4, id: a.newId(), size: 100 });
    a.writeTxSlot({ gref: page.gref, offset: 0, flags: 0, id: a.newId(), size: 200 });
  }), [RSP.ERROR, RSP.ERROR], 'continuation carries more than the whole packet');
  t.equal(nb.list(1)[0]!.counters.txErrors, 5);
  t.same((await a.send([frame(BCAST, MAC(1), 'still alive')])).map((r) => r.status), [RSP.OKAY], 'the vif itself goes on');
  await bystandersOk(t, 'after bad lengths');
});

t.test('data crossing a page, and a grant ref that does not map', async (t) => {
  const { nb, vif, bystandersOk } = await setup(t);
  const a = await vif(1);
  const page = a.grantData(frame(BCAST, MAC(1), randomBytes(100)))[0]!;
  t.same(await raw(a, 1, () => a.writeTxSlot({ gref: page.gref, offset: 4000, flags: 0, id: a.newId(), size: 200 })), [RSP.ERROR], 'offset 4000 + 200');
  t.same(await raw(a, 1, () => a.writeTxSlot({ gref: 999_999, offset: 0, flags: 0, id: a.newId(), size: 100 })), [RSP.ERROR], 'unknown gref');
  // A ref the guest granted to another domain is as unusable.
  t.equal(nb.list(1)[0]!.counters.txErrors, 2);
  await bystandersOk(t, 'after bad refs');
});

t.test('extra-info: GSO not negotiated is refused, its slot answered NETIF_RSP_NULL; multicast extras pass', async (t) => {
  const { vif, b, bystandersOk } = await setup(t);
  const a = await vif(1);
  const n = b.received.length;
  t.same(await raw(a, 2, () => a.queuePacket(frame(BCAST, MAC(1), 'gso'), { extras: [1] })), [RSP.ERROR, RSP.NULL], 'GSO extra');
  t.same(await raw(a, 2, () => a.queuePacket(frame(BCAST, MAC(1), 'mcast'), { extras: [2] })), [RSP.OKAY, RSP.NULL], 'MCAST_ADD extra');
  t.same(await raw(a, 3, () => a.queuePacket(frame(BCAST, MAC(1), 'junk'), { extras: [2, 9] })), [RSP.ERROR, RSP.NULL, RSP.NULL], 'unknown extra type');
  await b.waitRx(n + 1);
  t.equal(new TextDecoder().decode(b.received.at(-1)!.data.subarray(14)), 'mcast', 'only the good packet went out');
  await bystandersOk(t, 'after extras');
});

t.test('TX req_prod running ahead of the ring disconnects that vif only', async (t) => {
  const { vif, bystandersOk } = await setup(t);
  const a = await vif(1);
  a.corruptTxProd(100_000);
  await until(() => a.backendState() === 6, 30_000, 'backend Closed');
  await bystandersOk(t, 'after a runaway req_prod');
});

t.test('RX: req_prod running ahead disconnects; a buffer that does not map is answered ERROR', async (t) => {
  const { dom0, nb, vif, b, bystandersOk } = await setup(t);
  const a = await vif(1, 0);
  // A buffer whose grant was revoked before the backend used it.
  a.postRx(1);
  const pg = dom0.guest(1).page(a.rxPage);
  new DataView(pg.buffer, pg.byteOffset + 64 + 4, 4).setUint32(0, 999_999, true);
  await b.send([frame(MAC(1), MAC(2), 'to a bad buffer')]);
  await until(() => nb.list(1)[0]!.counters.rxDropped === 1, 30_000, 'rxDropped');
  // The worker counts the drop before it pushes the response: wait for the response itself.
  await a.waitRx(1, 'the error response');
  t.same(a.received.at(-1)!.statuses, [RSP.ERROR], 'answered with an error');
  // Now a runaway RX producer.
  Atomics.store(new Int32Array(pg.buffer, pg.byteOffset, 4), 0, 70_000);
  await b.send([frame(MAC(1), MAC(2), 'to a broken ring')]);
  await until(() => a.backendState() === 6, 30_000, 'backend Closed');
  await bystandersOk(t, 'after a runaway RX ring');
});

t.test('fairness: a flooding guest does not starve a quiet one', async (t) => {
  const { vif, c } = await setup(t);
  const a = await vif(1);
  const b = await vif(4);
  c.postRx(192); // 256 in all
  await c.send([frame(BCAST, MAC(3), 'I am C')]);
  for (let i = 0; i < 200; i++) a.queuePacket(frame(MAC(3), MAC(1), `A${i}`));
  for (let i = 0; i < 32; i++) b.queuePacket(frame(MAC(3), MAC(4), `B${i}`));
  a.pushTx();
  b.pushTx();
  const got = (await c.waitRx(232)).map((p) => new TextDecoder().decode(p.data.subarray(14)));
  const lastB = got.lastIndexOf('B31');
  const aAfter = got.slice(lastB).filter((s) => s.startsWith('A')).length;
  t.comment(`the quiet guest's last packet came ${lastB + 1}th of 232; ${aAfter} of the flood came after it`);
  t.ok(aAfter >= 64, 'the quiet guest was served within the first rounds, not after the whole flood');
  t.same(got.filter((s) => s.startsWith('A')), Array.from({ length: 200 }, (_, i) => `A${i}`), 'the flood arrived whole and in order');
});

t.test('destroying a domain during traffic leaks no fd and releases every grant', async (t) => {
  const { dom0, nb, vif, b, bystandersOk } = await setup(t);
  const fds = openFdCount();
  const a = await vif(1, 200);
  let stop = false;
  const pump = (async () => {
    while (!stop) {
      if (a.txRoom > 1) a.queuePacket(frame(MAC(2), MAC(1), randomBytes(500)));
      if (b.txRoom > 1) b.queuePacket(frame(MAC(1), MAC(2), randomBytes(500)));
      a.pushTx(); b.pushTx();
      a.pollTx(); b.pollTx(); b.pollRx();
      if (b.rxPosted < 32) b.postRx(64);
      await new Promise((r) => setImmediate(r));
    }
  })();
  await until(() => nb.list(1)[0]!.counters.txPackets > 20 && nb.list(1)[0]!.counters.rxPackets > 20, 30_000, 'traffic both ways');
  await nb.removeDomain(1);
  stop = true;
  await pump;
  t.same(nb.list(1), [], 'vif gone');
  t.equal(dom0.guest(1).liveMaps, 0, 'no grant of the dead domain is still mapped');
  t.equal(dom0.store.read('/local/domain/0/backend/vif/1'), null, 'its backend nodes are gone');
  // The frontend's own fds (its side of the channel, its memory) are the mock guest's: close them.
  for (const port of a.txPorts) { const p = dom0.channels.ports.get(port)!; libc.close(p.kick); libc.close(p.notify); dom0.channels.ports.delete(port); }
  libc.close(dom0.guest(1).memFd);
  dom0.guests.delete(1);
  t.equal(openFdCount(), fds, 'as many fds open as before the domain existed');
  await bystandersOk(t, 'after the destroy');
});

t.test('many slots in one granted page: mapped once per batch, all copied', async (t) => {
  const { dom0, vif, b } = await setup(t);
  const a = await vif(1);
  const n = b.received.length;
  const frames = Array.from({ length: 8 }, (_, i) => frame(BCAST, MAC(1), `shared page ${i}`.padEnd(100, '.')));
  const pfn = dom0.guest(1).allocPage();
  frames.forEach((f, i) => dom0.guest(1).page(pfn).set(f, i * 500));
  const gref = dom0.guest(1).grant(pfn, true);
  const maps = dom0.guest(1).mapCalls;
  const live = dom0.guest(1).liveMaps; // the two ring pages
  const st = await raw(a, 8, () => frames.forEach((f, i) => a.writeTxSlot({ gref, offset: i * 500, flags: 0, id: a.newId(), size: f.length })));
  t.same(st, Array(8).fill(RSP.OKAY));
  await b.waitRx(n + 8);
  t.same(b.received.slice(n).map((p) => Buffer.from(p.data).toString('latin1')), frames.map((f) => Buffer.from(f).toString('latin1')));
  t.ok(dom0.guest(1).mapCalls - maps <= 8, 'never more maps than slots');
  t.equal(dom0.guest(1).liveMaps, live, 'and all unmapped again');
});
