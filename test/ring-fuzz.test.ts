// ring-fuzz.test.ts: hostile frontends on every shared ring dom0 reads (issue 16 point 2) — blkif
// (random requests, segments, grants, sectors, indirect pages, garbage indices) into blkback, netif
// (random TX slots, chains, extras, RX posts, garbage indices) into netback, xs_wire messages and
// garbage indices from a guest ring into xenstored, and random indices and bytes on the console
// ring. Seeded (PVKVM_FUZZ_SEED) and scaled (PVKVM_FUZZ_SCALE). For each: nothing throws out of
// the backend, the fuzzed device is answered with errors or disconnected, and a well-behaved
// device on the same backend is served correctly afterwards (content checked).
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blkback } from '../dom0/blkback/index.ts';
import { ConsoleBackend } from '../dom0/console/backend.ts';
import { Netback } from '../dom0/netback/index.ts';
import { IDX } from '../dom0/xenstore/ring-transport.ts';
import { XS } from '../abi/io/xs-wire.ts';
import { offsetOf } from '../abi/layout.ts';
import { XENCONS as XENCONS_SIZES, XenconsInterface } from '../abi/io/console.ts';
import { MockDom0, MockBlkfront, bundleWorker, until } from './helpers/mock-frontend.ts';
import { startXenstored, type MockGuestRing } from './helpers/xs-client.ts';
import { MockNetfront, frame, RSP } from './helpers/mock-netfront.ts';
import { Rng, iterations, fuzzSeed, report } from './helpers/fuzz.ts';
import { tally, badIndex, blkRequest, indirectPage, xsMessage, txSlot, type Tally } from './helpers/ring-fuzz.ts';

// Images on tmpfs where there is one: flush and barrier requests fsync, and a disk's fsync is slow.
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pvkvm-ringfuzz-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function done(t: Test, target: string, seed: number, tl: Tally): void {
  t.comment(`${target}: ${tl.frames} frames, ${tl.indices} garbage indices, ${tl.answered} ${target.startsWith('console') ? 'output bytes' : 'answered'}, ${tl.disconnects} disconnects (seed ${seed})`);
  report({ target, kind: 'frames', count: tl.frames + tl.indices, seed, crashes: tl.crashes, hangs: tl.hangs });
  t.equal(tl.crashes, 0, `${target}: no crash`);
  t.equal(tl.hangs, 0, `${target}: no hang`);
}

const hdr = (page: Uint8Array): Int32Array => new Int32Array(page.buffer, page.byteOffset, 4);

// ---- blkif -------------------------------------------------------------------------------------

t.test('blkif ring fuzz: blkback answers or disconnects, the other disk is served', async (t) => {
  const seed = fuzzSeed(1);
  const r = new Rng(seed ^ 0xb1c);
  const rounds = iterations(100);
  const dom0 = new MockDom0();
  const bb = new Blkback(dom0.ctx, { workerUrl: await bundleWorker('dom0/blkback/worker.ts') });
  t.teardown(async () => { await bb.close(); dom0.close(); });
  const size = 1 << 20;
  const goodData = r.bytes(size);
  writeFileSync(join(dir, 'good.img'), goodData);
  writeFileSync(join(dir, 'fuzzed.img'), r.bytes(size));
  dom0.guest(3); dom0.guest(4);
  await bb.addDisk(4, { target: join(dir, 'good.img'), vdev: 'xvda', devid: 51712, readonly: false });
  const good = new MockBlkfront(dom0, 4, 51712);
  await good.connect();
  const g3 = dom0.guest(3);
  let devid = 51712;
  const connect = async (): Promise<MockBlkfront> => {
    devid += 16;
    await bb.addDisk(3, { target: join(dir, 'fuzzed.img'), vdev: `d${devid}`, devid, readonly: false });
    const fe = new MockBlkfront(dom0, 3, devid, { ringOrder: r.below(3), protocol: r.below(3) === 0 ? 'x86_32-abi' : 'x86_64-abi' });
    await fe.connect();
    return fe;
  };
  let fe = await connect();
  // Grants the fuzzer draws from: writable and read-only data pages, indirect pages of random segments, the ring itself.
  const grefs: number[] = [];
  for (let i = 0; i < 8; i++) grefs.push(g3.grant(g3.allocPage(), i % 3 === 0));
  for (let i = 0; i < 4; i++) { const pfn = g3.allocPage(); g3.page(pfn).set(indirectPage(r, grefs)); grefs.push(g3.grant(pfn, true)); }
  grefs.push(...[0, 1, 7, 99999]);
  const shadow = Buffer.from(goodData);
  const goodOk = async (what: string): Promise<void> => {
    const sector = r.below(2048 - 16); const data = r.bytes(16 * 512);
    const st = await good.write(sector, data, { firstSect: r.below(8) });
    data.copy(shadow, sector * 512);
    const back = await good.read(sector, 16);
    const rd = r.below(2048 - 40);
    const other = await good.read(rd, 40, { indirect: true });
    if (st !== 0 || back.status !== 0 || !Buffer.from(back.data).equals(data) || other.status !== 0 || !Buffer.from(other.data).equals(shadow.subarray(rd * 512, (rd + 40) * 512))) {
      t.fail(`the well-behaved disk is served correctly ${what}`);
    }
  };
  const tl = tally();
  for (let round = 0; round < rounds; round++) {
    if (fe.backendState() !== 4) {
      tl.disconnects++;
      // A fresh disk for the next rounds (a frontend restarting its handshake is blkback-faults' job).
      await until(() => fe.backendState() === 6, 10_000, 'Closed');
      fe = await connect();
    }
    const h = hdr(fe.guest.page(fe.ringPages[0]!));
    const entry = fe.encode({ op: 0 }, 0n).length;
    const prod = Atomics.load(h, 0) >>> 0;
    const k = 1 + r.below(Math.min(12, fe.ringSize));
    for (let i = 0; i < k; i++) {
      const rq = r.below(10) === 0 ? null : blkRequest(r, grefs, fe.sectors);
      fe.writeSlot(prod + i, rq === null ? r.bytes(entry) : fe.encode(rq, BigInt(r.u32())));
      tl.frames++;
    }
    if (r.below(10) === 0) Atomics.store(h, 1, r.u32() | 0); // req_event is the frontend's to scribble on
    // Rarely: each disconnect costs a new disk, whose data-path worker takes seconds to start on a busy host.
    const garbage = round === rounds >> 1 || r.below(25) === 0; // at least one
    const published = garbage ? badIndex(r, prod, fe.ringSize) : (prod + k) >>> 0;
    if (garbage) tl.indices++;
    fe.corruptReqProd(published); // publish and kick
    try {
      await until(() => fe.backendState() !== 4 || (Atomics.load(h, 2) >>> 0) === published, 10_000, `blkif round ${round}`);
    } catch { tl.hangs++; t.fail(`blkif round ${round} (seed ${seed}): neither answered nor disconnected`); break; }
    if (fe.backendState() === 4) {
      tl.answered += (published - prod) >>> 0;
      // Every answer is OKAY, ERROR or EOPNOTSUPP.
      for (let i = prod; i !== published; i = (i + 1) >>> 0) {
        const at = 64 + (i & (fe.ringSize - 1)) * entry;
        const pg = fe.guest.page(fe.ringPages[Math.floor(at / 4096)]!);
        const st = new DataView(pg.buffer, pg.byteOffset).getInt16((at % 4096) + 10, true);
        if (st !== 0 && st !== -1 && st !== -2) t.fail(`blkif status ${st} in round ${round} ${fe.proto} ring ${fe.ringSize} slot ${i} from ${prod} to ${published} at ${at}`);
      }
    }
    if (round % 30 === 29) await goodOk(`after round ${round}`);
  }
  await goodOk('after the fuzzing');
  t.ok(Buffer.from(readFileSync(join(dir, 'good.img'))).equals(shadow), 'the good disk holds exactly what it was sent');
  tl.crashes = dom0.lines.filter((l) => /crashed|exited/.test(l)).length;
  t.ok(tl.disconnects > 0, 'garbage indices disconnected the fuzzed disk');
  done(t, 'blkif ring', seed, tl);
});

// ---- netif ------------------------------------------------------------------------------------

const MAC = (d: number): string => `00:16:3e:00:${(d >> 8).toString(16).padStart(2, '0')}:${(d & 0xff).toString(16).padStart(2, '0')}`;

t.test('netif ring fuzz: netback answers or disconnects, two other vifs still talk', async (t) => {
  const seed = fuzzSeed(1);
  const r = new Rng(seed ^ 0x4e7);
  const rounds = iterations(300);
  const dom0 = new MockDom0();
  const nb = new Netback(dom0.ctx, { workerUrl: await bundleWorker('dom0/netback/worker.ts') });
  t.teardown(async () => { await nb.close(); dom0.close(); });
  const vif = async (domid: number): Promise<MockNetfront> => {
    dom0.guest(domid);
    await nb.addVif(domid, 0, { mac: MAC(domid) });
    const fe = new MockNetfront(dom0, domid, 0);
    await fe.connect();
    fe.postRx(64);
    return fe;
  };
  const [b, c] = [await vif(2), await vif(3)];
  let seq = 0;
  const bystandersOk = async (what: string): Promise<void> => {
    const f1 = frame(MAC(3), MAC(2), `B to C ${seq++} ${r.bytes(20 + r.below(600)).toString('hex')}`);
    const f2 = frame(MAC(2), MAC(3), `C to B ${seq++} ${r.bytes(20 + r.below(600)).toString('hex')}`);
    for (const fe of [b, c]) { fe.pollRx(); if (fe.rxPosted < 16) fe.postRx(32); }
    const s1 = await b.send([f1]); const s2 = await c.send([f2]);
    if (s1.at(-1)?.status !== RSP.OKAY || s2.at(-1)?.status !== RSP.OKAY) t.fail(`bystanders can send ${what}: ${JSON.stringify([s1, s2])} ${JSON.stringify(nb.list())} ${dom0.lines.slice(-5).join(' | ')}`);
    const has = (fe: MockNetfront, f: Uint8Array) => until(() => { fe.pollRx(); if (fe.rxPosted < 16) fe.postRx(32); return fe.received.some((p) => Buffer.from(p.data).equals(Buffer.from(f))); }, 20_000, what);
    await has(c, f1); await has(b, f2);
  };
  let domid = 10;
  let a = await vif(domid);
  const pool = (fe: MockNetfront): { ro: number[]; rw: number[] } => ({
    ro: [...fe.grantData(frame('ff:ff:ff:ff:ff:ff', MAC(domid), r.bytes(3000)), [1000, 1000, 1014], r.below(3000)).map((g) => g.gref), 0, 1, 99999],
    rw: Array.from({ length: 6 }, () => fe.guest.grant(fe.guest.allocPage(), false)),
  });
  let refs = pool(a);
  const tl = tally();
  const kickRx = (fe: MockNetfront): void => (fe as unknown as { kick(rx: boolean): void }).kick(true);
  for (let round = 0; round < rounds; round++) {
    if (a.backendState() !== 4) {
      tl.disconnects++;
      await nb.removeDomain(domid);
      a = await vif(++domid);
      refs = pool(a);
    }
    const tx = hdr(a.guest.page(a.txPage));
    const prod = Atomics.load(tx, 0) >>> 0;
    // TX: random slots and extras, then two ending slots (ref 0, no flags: they also end an extra chain).
    const k = 1 + r.below(12);
    for (let i = 0; i < k; i++) {
      if (r.below(6) === 0) a.writeExtraSlot(r.below(5) === 0 ? r.below(256) : 1 + r.below(4), r.below(3) === 0, Array.from(r.bytes(6)));
      else a.writeTxSlot(txSlot(r, refs.ro));
      tl.frames++;
    }
    for (let i = 0; i < 2; i++) a.writeTxSlot({ gref: 0, offset: 0, flags: 0, id: r.below(65536), size: 0 });
    // RX: random buffers posted (ids, refs), sometimes a garbage producer.
    const rx = hdr(a.guest.page(a.rxPage));
    if (r.below(2) === 0) {
      const rprod = Atomics.load(rx, 0) >>> 0;
      const m = r.below(8);
      const pg = a.guest.page(a.rxPage);
      const v = new DataView(pg.buffer, pg.byteOffset, 4096);
      for (let i = 0; i < m; i++) {
        const at = 64 + ((rprod + i) & 255) * 8;
        v.setUint16(at, r.below(65536), true); v.setUint16(at + 2, r.below(65536), true);
        v.setUint32(at + 4, r.below(4) === 0 ? r.u32() : r.pick(refs.rw), true);
        tl.frames++;
      }
      const garbageRx = r.below(12) === 0;
      if (garbageRx) tl.indices++;
      Atomics.store(rx, 0, (garbageRx ? badIndex(r, rprod, 256) : rprod + m) | 0);
      kickRx(a);
    }
    const garbage = r.below(10) === 0;
    const published = garbage ? badIndex(r, prod, 256) : Atomics.load(tx, 0) >>> 0;
    if (!garbage) a.pushTx();
    const end = garbage ? published : (prod + k + 2) >>> 0;
    if (garbage) tl.indices++;
    a.corruptTxProd(garbage ? published : end); // publish and kick
    try {
      await until(() => a.backendState() !== 4 || (Atomics.load(tx, 2) >>> 0) === end, 10_000, `netif round ${round}`);
    } catch { tl.hangs++; t.fail(`netif round ${round} (seed ${seed}): neither answered nor disconnected`); break; }
    if (a.backendState() === 4) tl.answered += (end - prod) >>> 0;
    // Traffic towards the fuzzed vif, so its RX ring is used.
    if (r.below(3) === 0) {
      b.pollRx(); if (b.rxPosted < 16) b.postRx(32);
      await b.send([frame(MAC(domid), MAC(2), r.bytes(20 + r.below(1400)))]);
    }
    if (round % 20 === 19) await bystandersOk(`after round ${round}`);
  }
  await bystandersOk('after the fuzzing');
  t.pass('the bystanders exchanged frames, content checked');
  tl.crashes = dom0.lines.filter((l) => /crashed|exited/.test(l)).length;
  t.ok(tl.disconnects > 0, 'garbage disconnected the fuzzed vif');
  done(t, 'netif ring', seed, tl);
});

// ---- xenstore ring -----------------------------------------------------------------------------

t.test('xenstore ring fuzz: xenstored answers or marks the ring broken, another guest is served', async (t) => {
  const seed = fuzzSeed(1);
  const r = new Rng(seed ^ 0x5707e);
  const rounds = iterations(5000);
  const h = await startXenstored();
  t.teardown(() => h.close());
  const good = h.guest(2);
  const kept = new Map<string, string>();
  const goodOk = async (what: string): Promise<void> => {
    const key = `k${r.below(50)}`; const value = r.bytes(1 + r.below(60)).toString('hex');
    await good.write(key, value); kept.set(key, value);
    for (const [k, v] of kept) if ((await good.read(k)) !== v) t.fail(`guest 2 reads back ${k} ${what}`);
  };
  await goodOk('before');
  let domid = 100;
  let g: MockGuestRing = h.guest(domid);
  let dirty = false;
  const tl = tally();
  const replies = (m: MockGuestRing): number => m.received.filter((x) => x.type !== XS.WATCH_EVENT).length;
  const txIds = (m: MockGuestRing): number[] => m.received.filter((x) => x.type === XS.TRANSACTION_START).map((x) => Number(x.payload.toString().replace(/\0$/, ''))).slice(-8);
  for (let round = 0; round < rounds; round++) {
    if (dirty || Atomics.load(g.idx, IDX.error) !== 0) {
      if (Atomics.load(g.idx, IDX.error) !== 0) tl.disconnects++;
      h.xs.releaseDomain(domid);
      g = h.guest(++domid);
      dirty = false;
    }
    const kind = r.below(20);
    try {
      if (kind === 0) {
        // Garbage in one of the four indices (or a RECONNECT request), then a kick.
        const which = r.pick([IDX.reqProd, IDX.reqCons, IDX.rspCons, IDX.rspProd, IDX.connection]);
        Atomics.store(g.idx, which, (which === IDX.connection ? r.below(4) : badIndex(r, Atomics.load(g.idx, which) >>> 0, 1024)) | 0);
        h.xs.kick(domid);
        tl.indices++;
        dirty = true;
      } else if (kind === 1) {
        // Mutated frames (lying lengths, cut headers): the stream may be out of step afterwards.
        for (let i = 0, n = 1 + r.below(3); i < n; i++) { g.sendRaw(xsMessage(r, `/local/domain/${domid}`, [], false)); tl.frames++; }
        dirty = true;
      } else {
        // Well-framed random messages: each must get a reply (or the ring is marked broken).
        const before = replies(g);
        const n = 1 + r.below(4);
        for (let i = 0; i < n; i++) { g.sendRaw(xsMessage(r, `/local/domain/${domid}`, txIds(g), true)); tl.frames++; }
        await until(() => replies(g) >= before + n || Atomics.load(g.idx, IDX.error) !== 0, 10_000, `xs round ${round}`);
        tl.answered += replies(g) - before;
      }
    } catch (e) {
      if (/timed out/.test(String(e))) { tl.hangs++; t.fail(`xs round ${round} (seed ${seed}): no reply and no error`); break; }
      tl.crashes++; t.fail(`xenstored threw in round ${round} (seed ${seed}): ${String(e)}`);
    }
    if (round % 100 === 99) await goodOk(`after round ${round}`);
  }
  await goodOk('after the fuzzing');
  t.same(await good.call(XS.GET_DOMAIN_PATH, ['2']), ['/local/domain/2'], 'guest 2 still gets its answers');
  const c = await h.connect();
  await c.write('/tool/ringfuzz', 'alive');
  t.equal(await c.read('/tool/ringfuzz'), 'alive', 'the socket side is served too');
  done(t, 'xenstore ring', seed, tl);
});

// ---- console ring ------------------------------------------------------------------------------

const CONS = {
  IN: offsetOf(XenconsInterface, 'in'), IN_SIZE: XENCONS_SIZES.values.IN_SIZE,
  OUT: offsetOf(XenconsInterface, 'out'), OUT_SIZE: XENCONS_SIZES.values.OUT_SIZE,
  IN_CONS: offsetOf(XenconsInterface, 'in_cons'), IN_PROD: offsetOf(XenconsInterface, 'in_prod'),
  OUT_CONS: offsetOf(XenconsInterface, 'out_cons'), OUT_PROD: offsetOf(XenconsInterface, 'out_prod'),
} as const;

t.test('console ring fuzz: random indices and bytes break only that console, another is served', async (t) => {
  const seed = fuzzSeed(1);
  const r = new Rng(seed ^ 0xc0a5);
  const rounds = iterations(4000);
  const GUARD = 64;
  const sab = new SharedArrayBuffer(4096 + 2 * GUARD);
  const all = new Uint8Array(sab);
  all.fill(0xa5);
  const page = new Uint8Array(sab, GUARD, 4096);
  const dv = new DataView(sab, GUARD, 4096);
  const tl = tally();
  const make = (): ConsoleBackend => {
    page.fill(0);
    const b = new ConsoleBackend({ domid: 7, name: 'fuzzed', page, notify: () => {} });
    b.on('output', (o) => { tl.answered += o.length; if (o.length > CONS.OUT_SIZE) t.fail('more output than the ring holds'); });
    return b;
  };
  let bad = make();
  // The well-behaved console, beside it: output and input checked byte for byte.
  const gpage = new Uint8Array(4096);
  const gdv = new DataView(gpage.buffer);
  const gb = new ConsoleBackend({ domid: 8, name: 'good', page: gpage, notify: () => {} });
  const seen: Uint8Array[] = []; const sent: Uint8Array[] = []; const typed: Uint8Array[] = []; const got: number[] = [];
  gb.on('output', (o) => seen.push(Uint8Array.from(o)));
  const goodRound = (): void => {
    const bytes = r.bytes(1 + r.below(300));
    const cons = gdv.getUint32(CONS.OUT_CONS, true); let prod = gdv.getUint32(CONS.OUT_PROD, true);
    const n = Math.min(bytes.length, CONS.OUT_SIZE - ((prod - cons) >>> 0));
    for (let i = 0; i < n; i++) { gpage[CONS.OUT + (prod & (CONS.OUT_SIZE - 1))] = bytes[i]!; prod = (prod + 1) >>> 0; }
    gdv.setUint32(CONS.OUT_PROD, prod, true);
    sent.push(bytes.subarray(0, n));
    gb.onGuestEvent();
    const inp = r.bytes(r.below(40)); typed.push(inp); gb.write(inp);
    let ic = gdv.getUint32(CONS.IN_CONS, true); const ip = gdv.getUint32(CONS.IN_PROD, true);
    while (ic !== ip) { got.push(gpage[CONS.IN + (ic & (CONS.IN_SIZE - 1))]!); ic = (ic + 1) >>> 0; }
    gdv.setUint32(CONS.IN_CONS, ic, true);
    gb.onGuestEvent();
  };
  for (let round = 0; round < rounds; round++) {
    try {
      if (bad.broken) { tl.disconnects++; await bad.close(); bad = make(); }
      // Random bytes anywhere in the page (rings and indices alike), then indices near or far.
      for (let i = 0, n = r.below(4); i < n; i++) page.set(r.bytes(1 + r.below(64)), r.below(4096 - 64));
      const near = r.below(3) !== 0;
      for (const off of [CONS.OUT_CONS, CONS.OUT_PROD, CONS.IN_CONS, CONS.IN_PROD]) {
        if (r.below(2) === 0) continue;
        const cur = dv.getUint32(off, true);
        dv.setUint32(off, near ? (cur + r.below(4096) - 1024) >>> 0 : badIndex(r, cur, 1024), true);
        tl.indices++;
      }
      bad.onGuestEvent();
      bad.write(r.bytes(r.below(3000)));
      tl.frames++;
    } catch (e) {
      tl.crashes++; t.fail(`console backend threw in round ${round} (seed ${seed}): ${String(e)}`);
    }
    if (round % 4 === 0) goodRound();
  }
  t.ok(all.subarray(0, GUARD).every((b) => b === 0xa5) && all.subarray(GUARD + 4096).every((b) => b === 0xa5), 'no write outside the page');
  const cat = (xs: Uint8Array[]): Buffer => Buffer.concat(xs.map((x) => Buffer.from(x)));
  t.ok(cat(seen).equals(cat(sent)), 'the good console\'s output arrived byte for byte');
  t.ok(Buffer.from(got).equals(cat(typed)), 'the good console\'s input arrived byte for byte');
  t.ok(tl.disconnects > 0, 'garbage indices broke the fuzzed console');
  await bad.close(); await gb.close();
  done(t, 'console ring', seed, tl);
});
