// blkback.test.ts: blkback against the mock frontend — negotiation and keys, data integrity
// both ways on the host file, every op, both ABIs, multi-page rings, persistent and
// per-request grants, indirect requests, and the checks that refuse bad requests.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Blkback, vdevToDevid } from '../dom0/blkback/index.ts';
import { MockDom0, MockBlkfront, bundleWorker, OP, type FrontOptions } from './helpers/mock-frontend.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvkvm-blkback-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** An image of `mib` MiB filled with random bytes; returns its path and contents. */
function image(name: string, bytes = 4 << 20): { path: string; data: Buffer } {
  const path = join(dir, name);
  const data = randomBytes(bytes);
  writeFileSync(path, data);
  return { path, data };
}

async function rig(t: Test, opts: FrontOptions & { readonly?: boolean; bytes?: number } = {}) {
  const dom0 = new MockDom0();
  const bb = new Blkback(dom0.ctx, { workerUrl: await bundleWorker('dom0/blkback/worker.ts') });
  const img = image(`d${Math.random().toString(36).slice(2)}.img`, opts.bytes);
  dom0.guest(3);
  await bb.addDisk(3, { target: img.path, vdev: 'xvda', devid: 51712, readonly: opts.readonly ?? false });
  const fe = new MockBlkfront(dom0, 3, 51712, opts);
  await fe.connect();
  t.teardown(async () => {
    await bb.close();
    dom0.close();
  });
  return { dom0, bb, img, fe };
}

t.test('vdevToDevid', async (t) => {
  t.equal(vdevToDevid('xvda'), 51712);
  t.equal(vdevToDevid('xvdb3'), (202 << 8) | (1 << 4) | 3);
  t.equal(vdevToDevid('xvdq'), (1 << 28) | (16 << 8));
  t.equal(vdevToDevid('xvdaa'), (1 << 28) | (26 << 8));
  t.equal(vdevToDevid('sda'), 2048);
  t.equal(vdevToDevid('hdc'), 22 << 8);
  t.equal(vdevToDevid('hdb1'), (3 << 8) | (1 << 6) | 1);
  t.equal(vdevToDevid('51728'), 51728);
  t.equal(vdevToDevid('d1p2'), 51730);
  for (const bad of ['', 'xvd', 'vda', 'xvda99999', 'hde', 'sdq']) t.throws(() => vdevToDevid(bad), RangeError, bad);
});

t.test('an image that cannot be opened rejects addDisk with one line', async (t) => {
  const dom0 = new MockDom0();
  const bb = new Blkback(dom0.ctx, { workerUrl: await bundleWorker('dom0/blkback/worker.ts') });
  await t.rejects(bb.addDisk(1, { target: join(dir, 'missing.img'), vdev: 'xvda', devid: 51712, readonly: false }), /cannot open disk image .*missing\.img: ENOENT$/);
  t.equal(dom0.store.read('/local/domain/0/backend/vbd/1/51712/state'), null, 'no device left behind');
  await bb.close();
  dom0.close();
});

t.test('keys, features and the handshake', async (t) => {
  const { dom0, fe, img } = await rig(t);
  const be = (k: string) => dom0.store.read(`${fe.be}/${k}`);
  t.equal(fe.sectors, img.data.length / 512);
  t.equal(fe.info, 0);
  t.same(['sector-size', 'physical-sector-size', 'feature-flush-cache', 'feature-barrier', 'feature-discard', 'discard-granularity',
    'feature-persistent', 'feature-max-indirect-segments', 'max-ring-page-order', 'multi-queue-max-queues', 'mode', 'type', 'dev', 'params']
    .map(be), ['512', '512', '1', '1', '1', '4096', '1', '256', '4', '1', 'w', 'phy', 'xvda', img.path]);
  t.equal(dom0.store.read(`${fe.fe}/virtual-device`), '51712');
  await fe.close();
  t.equal(fe.backendState(), 6, 'Closed after the frontend closed');
  t.equal(dom0.liveMaps, 0, 'ring unmapped');
  t.equal(dom0.channels.bound.size, 0, 'channel unbound');
});

for (const variant of [
  { name: '64-bit, per-request grants', opts: {} },
  { name: '64-bit, persistent grants', opts: { persistent: true } },
  { name: '32-bit ABI', opts: { protocol: 'x86_32-abi' as const } },
  { name: '32-bit ABI, multi-page ring, persistent', opts: { protocol: 'x86_32-abi' as const, ringOrder: 2, persistent: true } },
  { name: 'multi-page ring (order 4)', opts: { ringOrder: 4 } },
]) {
  t.test(`data integrity: ${variant.name}`, async (t) => {
    const { fe, img, dom0 } = await rig(t, variant.opts);
    // Reads: whole pages, a sub-page start, the last sector, an indirect request.
    for (const [sector, n, first] of [[0, 8, 0], [9, 3, 5], [fe.sectors - 1, 1, 7], [100, 88, 0]] as const) {
      const r = await fe.read(sector, n, { firstSect: first });
      t.equal(r.status, 0, `read ${sector}+${n}`);
      t.ok(Buffer.from(r.data).equals(img.data.subarray(sector * 512, (sector + n) * 512)), `bytes of ${sector}+${n}`);
    }
    const big = await fe.read(1000, 256 * 8, { indirect: true });
    t.equal(big.status, 0, 'indirect read of 256 segments');
    t.ok(Buffer.from(big.data).equals(img.data.subarray(1000 * 512, (1000 + 2048) * 512)), 'indirect bytes');
    // Writes land in the host file byte for byte, and read back.
    const w = randomBytes(40 * 512);
    t.equal(await fe.write(77, w, { firstSect: 2 }), 0);
    const wi = randomBytes(100 * 512);
    t.equal(await fe.write(3000, wi, { indirect: true }), 0, 'indirect write');
    const host = readFileSync(img.path);
    t.ok(host.subarray(77 * 512, 117 * 512).equals(w), 'write on the host');
    t.ok(host.subarray(3000 * 512, 3100 * 512).equals(wi), 'indirect write on the host');
    t.ok(host.subarray(0, 77 * 512).equals(img.data.subarray(0, 77 * 512)), 'nothing else touched');
    t.ok(Buffer.from((await fe.read(77, 40)).data).equals(w), 'read back');
    t.equal(dom0.guest(3).busyEnds, 0, 'every grant was unmapped before its response');
    if (variant.opts.persistent) t.ok(dom0.liveMaps > 1, 'persistent grants stay mapped');
    else t.equal(dom0.liveMaps, fe.ringPages.length, 'only the ring stays mapped');
    await fe.close();
    t.equal(dom0.liveMaps, 0, 'all unmapped after close');
  });
}

t.test('flush, barrier and discard', async (t) => {
  const { fe, img } = await rig(t);
  t.same((await fe.op({ op: OP.FLUSH })).status, 0, 'pure flush');
  t.same((await fe.op({ op: OP.WRITE_BARRIER })).status, 0, 'pure barrier');
  const d = randomBytes(16 * 512);
  t.equal(await fe.write(50, d, { op: OP.WRITE_BARRIER }), 0, 'barrier with data');
  t.equal(await fe.write(70, d, { op: OP.FLUSH }), 0, 'flush with data');
  let host = readFileSync(img.path);
  t.ok(host.subarray(50 * 512, 66 * 512).equals(d) && host.subarray(70 * 512, 86 * 512).equals(d), 'their data written');
  t.equal((await fe.op({ op: OP.DISCARD, sector: 16, nrSectors: 32 })).status, 0, 'discard');
  host = readFileSync(img.path);
  t.ok(host.subarray(16 * 512, 48 * 512).every((b) => b === 0), 'discarded range reads zero');
  t.ok(host.subarray(48 * 512, 50 * 512).equals(img.data.subarray(48 * 512, 50 * 512)), 'neighbours kept');
  t.equal(host.length, img.data.length, 'size kept');
  t.equal((await fe.op({ op: OP.DISCARD, sector: fe.sectors - 1, nrSectors: 2 })).status, -1, 'discard past the end');
});

t.test('bad requests get error responses', async (t) => {
  const { fe, dom0, img } = await rig(t);
  const g = dom0.guest(3);
  const pfn = g.allocPage();
  const ref = g.grant(pfn, false);
  const seg = { gref: ref, first: 0, last: 7 };
  const cases: [string, Parameters<MockBlkfront['op']>[0], number][] = [
    ['unknown op', { op: 9 }, -2],
    ['reserved op 4', { op: 4 }, -2],
    ['read of no segments', { op: OP.READ, segs: [] }, -1],
    ['12 direct segments', { op: OP.READ, segs: Array(11).fill(seg), nrSegments: 12 }, -1],
    ['first_sect > last_sect', { op: OP.READ, segs: [{ gref: ref, first: 5, last: 4 }] }, -1],
    ['last_sect 8', { op: OP.READ, segs: [{ gref: ref, first: 0, last: 8 }] }, -1],
    ['past the end', { op: OP.READ, sector: fe.sectors - 7, segs: [seg] }, -1],
    ['huge sector', { op: OP.WRITE, sector: 2 ** 60, segs: [seg] }, -1],
    ['bad grant ref', { op: OP.READ, segs: [{ gref: 99999, first: 0, last: 7 }] }, -1],
    ['indirect of 257 segments', { op: OP.INDIRECT, indirectOp: OP.READ, nrSegments: 257, indirectGrefs: [ref] }, -1],
    ['indirect of 0 segments', { op: OP.INDIRECT, indirectOp: OP.READ, nrSegments: 0, indirectGrefs: [ref] }, -1],
    ['indirect flush', { op: OP.INDIRECT, indirectOp: OP.FLUSH, nrSegments: 1, indirectGrefs: [ref] }, -1],
    ['indirect page not granted', { op: OP.INDIRECT, indirectOp: OP.READ, nrSegments: 1, indirectGrefs: [88888] }, -1],
  ];
  for (const [name, req, status] of cases) t.equal((await fe.op({ sector: 0, ...req })).status, status, name);
  // A write from a page the guest granted read-only is fine; a read into it is not.
  const ro = g.grant(pfn, true);
  t.equal((await fe.op({ op: OP.READ, segs: [{ gref: ro, first: 0, last: 7 }] })).status, -1, 'read into a read-only grant');
  t.equal((await fe.op({ op: OP.WRITE, segs: [{ gref: ro, first: 0, last: 7 }] })).status, 0, 'write from a read-only grant');
  // A batch mixing good and bad requests: each answered on its own, in order.
  const rsps = await fe.submit([{ op: OP.READ, segs: [seg] }, { op: 77 }, { op: OP.READ, segs: [{ gref: 4242, first: 0, last: 0 }] }, { op: OP.READ, segs: [seg] }]);
  t.same(rsps.map((r) => r.status), [0, -2, -1, 0]);
  t.same(rsps.map((r) => r.op), [0, 77, 0, 0], 'operation echoed');
  t.equal(readFileSync(img.path).length, img.data.length);
  t.equal(dom0.liveMaps, 1, 'only the ring mapped');
});

t.test('read-only disk', async (t) => {
  const { fe, img, dom0 } = await rig(t, { readonly: true });
  t.equal(fe.info & 4, 4, 'VDISK_READONLY');
  t.equal(dom0.store.read(`${fe.be}/mode`), 'r');
  t.equal(dom0.store.read(`${fe.be}/feature-discard`), null, 'no discard offered');
  t.equal(await fe.write(0, randomBytes(4096)), -1, 'write refused');
  t.equal(await fe.write(0, randomBytes(4096), { indirect: true }), -1, 'indirect write refused');
  t.equal(await fe.write(0, randomBytes(4096), { op: OP.WRITE_BARRIER }), -1, 'barrier write refused');
  t.equal((await fe.op({ op: OP.DISCARD, sector: 0, nrSectors: 8 })).status, -1, 'discard refused');
  t.ok(readFileSync(img.path).equals(img.data), 'image untouched');
  t.equal((await fe.read(0, 8)).status, 0, 'reads work');
});
