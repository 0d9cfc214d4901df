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
import { MockDom0, MockBlkfront, bundleWorker, until } from './helpers/mock-frontend.ts';
import { Rng, iterations, fuzzSeed, report } from './helpers/fuzz.ts';
import { tally, badIndex, blkRequest, indirectPage, type Tally } from './helpers/ring-fuzz.ts';

// Images on tmpfs where there is one: flush and barrier requests fsync, and a disk's fsync is slow.
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pvkvm-ringfuzz-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function done(t: Test, target: string, seed: number, tl: Tally): void {
  t.comment(`${target}: ${tl.frames} frames, ${tl.indices} garbage indices, ${tl.answered} answered, ${tl.disconnects} disconnects (seed ${seed})`);
  report({ target, kind: 'frames', count: tl.frames + tl.indices, seed, crashes: tl.crashes, hangs: tl.hangs });
  t.equal(tl.crashes, 0, `${target}: no crash`);
  t.equal(tl.hangs, 0, `${target}: no hang`);
}

const hdr = (page: Uint8Array): Int32Array => new Int32Array(page.buffer, page.byteOffset, 4);

// ---- blkif -------------------------------------------------------------------------------------

t.test('blkif ring fuzz: blkback answers or disconnects, the other disk is served', async (t) => {
  const seed = fuzzSeed(1);
  const r = new Rng(seed ^ 0xb1c);
  const rounds = iterations(60);
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
    const garbage = r.below(10) === 0;
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
