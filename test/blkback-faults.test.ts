// blkback-faults.test.ts: blkback under stress and abuse — random read/write torture checked
// against a shadow copy, several disks and domains at once, a frontend that publishes garbage
// indices, an image that shrinks or vanishes under the guest, and a domain removed with I/O in
// flight (every grant, channel and fd released). Also prints throughput over the mock.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, truncateSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { Blkback } from '../dom0/blkback/index.ts';
import { MockDom0, MockBlkfront, bundleWorker, openFdCount, until, sleep, OP, type FrontOptions } from './helpers/mock-frontend.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvkvm-blkfault-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

function image(bytes = 4 << 20): { path: string; data: Buffer } {
  const path = join(dir, `img${seq++}.img`);
  const data = randomBytes(bytes);
  writeFileSync(path, data);
  return { path, data };
}

async function setup(t: Test) {
  const dom0 = new MockDom0();
  const bb = new Blkback(dom0.ctx, { workerUrl: await bundleWorker('dom0/blkback/worker.ts') });
  t.teardown(async () => {
    await bb.close();
    dom0.close();
  });
  const disk = async (domid: number, devid: number, opts: FrontOptions = {}, bytes?: number) => {
    const img = image(bytes);
    dom0.guest(domid);
    await bb.addDisk(domid, { target: img.path, vdev: `d${devid}`, devid, readonly: false });
    const fe = new MockBlkfront(dom0, domid, devid, opts);
    await fe.connect();
    return { img, fe };
  };
  return { dom0, bb, disk };
}

/** Rounds of up to 16 concurrent, non-overlapping random reads and writes, checked against a shadow. */
async function torture(t: Test, fe: MockBlkfront, shadow: Buffer, rounds: number): Promise<number> {
  let bad = 0;
  for (let r = 0; r < rounds; r++) {
    const used: [number, number][] = [];
    const ops: Promise<void>[] = [];
    for (let k = 0; k < 16; k++) {
      const n = randomInt(1, 200);
      const sector = randomInt(0, fe.sectors - n);
      if (used.some(([a, b]) => sector < b && a < sector + n)) continue;
      used.push([sector, sector + n]);
      const opt = { firstSect: randomInt(0, 8), indirect: n > 80 || randomInt(0, 4) === 0 };
      if (randomInt(0, 2) === 0) {
        const data = randomBytes(n * 512);
        ops.push(fe.write(sector, data, opt).then((st) => {
          if (st !== 0) bad++;
          data.copy(shadow, sector * 512);
        }));
      } else {
        const expect = Buffer.from(shadow.subarray(sector * 512, (sector + n) * 512));
        ops.push(fe.read(sector, n, opt).then((res) => {
          if (res.status !== 0 || !Buffer.from(res.data).equals(expect)) bad++;
        }));
      }
    }
    await Promise.all(ops);
  }
  return bad;
}

for (const opts of [{}, { persistent: true }, { protocol: 'x86_32-abi' as const, ringOrder: 1 }]) {
  t.test(`random read/write torture ${JSON.stringify(opts)}`, async (t) => {
    const { disk, dom0 } = await setup(t);
    const { img, fe } = await disk(3, 51712, opts);
    const shadow = Buffer.from(img.data);
    t.equal(await torture(t, fe, shadow, 40), 0, 'every request succeeded with the right bytes');
    t.ok(readFileSync(img.path).equals(shadow), 'host file matches the shadow byte for byte');
    t.equal(dom0.guest(3).busyEnds, 0, 'no grant still mapped when answered');
  });
}

t.test('several disks in several domains, independently', async (t) => {
  const { disk, bb, dom0 } = await setup(t);
  const disks = await Promise.all([disk(3, 51712), disk(3, 51728, { persistent: true }), disk(4, 51712), disk(4, 51728, { protocol: 'x86_32-abi' })]);
  const shadows = disks.map((d) => Buffer.from(d.img.data));
  const bad = await Promise.all(disks.map((d, i) => torture(t, d.fe, shadows[i]!, 10)));
  t.same(bad, [0, 0, 0, 0]);
  disks.forEach((d, i) => t.ok(readFileSync(d.img.path).equals(shadows[i]!), `disk ${i} on the host`));
  await bb.removeDomain(3);
  t.equal(dom0.store.read('/local/domain/0/backend/vbd/3'), null, "domain 3's backend nodes removed");
  t.equal(dom0.store.read('/local/domain/3/device/vbd/51712'), null, "domain 3's frontend nodes removed");
  t.equal(await torture(t, disks[2]!.fe, shadows[2]!, 5), 0, 'domain 4 keeps working');
  t.equal(bb.list().length, 2);
});

t.test('garbage req_prod closes that device only', async (t) => {
  const { disk, dom0 } = await setup(t);
  const a = await disk(3, 51712);
  const b = await disk(3, 51728);
  a.fe.corruptReqProd(12345);
  await until(() => a.fe.backendState() === 6, 30_000, 'Closed');
  const states = dom0.store.writes.filter(([p]) => p === `${a.fe.be}/state`).map(([, v]) => v);
  t.same(states.slice(-3), ['4', '5', '6'], 'Connected, Closing, Closed');
  t.match(dom0.lines.join('\n'), /malformed ring/, 'logged why');
  t.equal(dom0.liveMaps, 1, "the broken device's ring is unmapped; the other's stays");
  t.equal(dom0.channels.bound.size, 1);
  t.equal((await b.fe.read(0, 8)).status, 0, 'the other device keeps working');
  t.ok(Buffer.from((await b.fe.read(8, 8)).data).equals(b.img.data.subarray(4096, 8192)));
  // The frontend acknowledges and starts over: it gets a fresh handshake.
  dom0.store.write(`${a.fe.fe}/state`, '6');
  await sleep(5); // let the backend see Closed before Initialising (watches coalesce)
  dom0.store.write(`${a.fe.fe}/state`, '1');
  await until(() => a.fe.backendState() === 2, 30_000, 'InitWait again');
  const again = new MockBlkfront(dom0, 3, 51712);
  await again.connect();
  t.equal((await again.read(0, 8)).status, 0, 'reconnected and serving');
});

t.test('an image that shrinks or vanishes gives error responses, not a crash', async (t) => {
  const { disk } = await setup(t);
  const { img, fe } = await disk(3, 51712);
  truncateSync(img.path, 1 << 20);
  t.equal((await fe.read(4096, 8)).status, -1, 'read past the new end: ERROR');
  t.equal((await fe.read(0, 8)).status, 0, 'read inside still works');
  unlinkSync(img.path);
  t.equal(await fe.write(0, randomBytes(4096)), 0, 'an unlinked image stays usable (open fd)');
  t.equal((await fe.read(4000, 8)).status, -1);
  t.equal((await fe.op({ op: OP.FLUSH })).status, 0);
});

t.test('removeDomain with I/O in flight releases every mapping, channel and fd', async (t) => {
  const { disk, bb, dom0 } = await setup(t);
  await disk(5, 51712); // a warm-up device so lazily opened fds of the first worker are in the baseline
  await bb.removeDomain(5);
  dom0.guest(3);
  const before = openFdCount() - 2 * dom0.channels.ports.size;
  const frontFds = () => 2 * dom0.channels.ports.size; // the guest's ends of its event channels
  const { fe } = await disk(3, 51712);
  const f2 = (await disk(3, 51728, { persistent: true })).fe;
  await f2.read(0, 64);
  dom0.guest(3).mapDelayMs = 30;
  const calls = dom0.guest(3).mapCalls;
  const inflight = [fe.read(0, 8), fe.write(100, randomBytes(8192)), f2.read(100, 300, { indirect: true })];
  void Promise.allSettled(inflight);
  await until(() => dom0.guest(3).mapCalls > calls || undefined, 30_000, 'maps in flight');
  await bb.removeDomain(3);
  t.equal(dom0.liveMaps, 0, 'no grant left mapped');
  t.equal(dom0.channels.bound.size, 0, 'no channel left bound');
  t.equal(dom0.store.read('/local/domain/0/backend/vbd/3'), null, 'backend nodes removed');
  await sleep(100); // late map answers are unmapped as they arrive
  t.equal(dom0.liveMaps, 0, 'still none after the delayed maps answered');
  t.equal(openFdCount() - frontFds(), before, 'fd count back to where it was');
});

t.test('throughput over the mock (informational)', async (t) => {
  const { disk } = await setup(t);
  const { fe } = await disk(3, 51712, { persistent: true, ringOrder: 2 }, 64 << 20);
  const seqRead = async (chunkSectors: number, qd: number): Promise<number> => {
    const start = process.hrtime.bigint();
    let next = 0;
    const total = fe.sectors;
    await Promise.all(Array.from({ length: qd }, async () => {
      for (let s = (next += chunkSectors) - chunkSectors; s + chunkSectors <= total; s = (next += chunkSectors) - chunkSectors) {
        if ((await fe.read(s, chunkSectors, { indirect: chunkSectors > 88 })).status !== 0) throw new Error('read failed');
      }
    }));
    return (total * 512) / 2 ** 20 / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  const mbs = await seqRead(128, 8);
  const start = process.hrtime.bigint();
  for (let i = 0; i < 500; i++) await fe.read(randomInt(0, fe.sectors - 8), 8);
  const qd1us = Number(process.hrtime.bigint() - start) / 1e3 / 500;
  t.comment(`64 KiB sequential reads, QD8, persistent: ${mbs.toFixed(0)} MiB/s; 4 KiB random read QD1: ${qd1us.toFixed(0)} µs round trip`);
  t.ok(mbs > 0);
});
