// blk-guests.test.ts: the split block driver end to end — SDK guests (blkfront) against dom0's
// blkback on image files: integrity both ways, torture with and without persistent grants, and
// read-only disks.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { MiB, imageDir, image, guestPattern, hostPattern, runBlockGuest, sha256 } from './helpers/blk.ts';

const { dir, cleanup } = imageDir();
t.teardown(cleanup);

t.test('guest-written data lands in the host file byte for byte', kvmTest(), async (t) => {
  const img = image(dir, 'w.img', 8 * MiB);
  const r = await runBlockGuest('blkwork', [img], 'mode=seqwrite size=1M bs=65536 qd=4');
  t.equal(r.result, 'SUCCESS', r.out);
  const b = readFileSync(img);
  let bad = -1;
  for (let o = 0; o < MiB && bad < 0; o++) if (b[o] !== guestPattern(o)) bad = o;
  t.equal(bad, -1, 'every byte of the first MiB');
  t.ok(b.subarray(MiB).every((x) => x === 0), 'nothing written past it');
});

t.test('a host-prepared image reads back correctly in the guest', kvmTest(), async (t) => {
  const img = image(dir, 'h.img', 2 * MiB, hostPattern);
  const r = await runBlockGuest('blkwork', [img], 'mode=verify-host size=1M bs=65536 qd=8');
  t.equal(r.result, 'SUCCESS', r.out);
});

t.test('random read/write torture, persistent and per-request grants', kvmTest(), async (t) => {
  const img = image(dir, 'r.img', 8 * MiB);
  const persistent = await runBlockGuest('blkwork', [img], 'mode=random size=4M bs=4096 qd=8 ops=120 seed=7');
  t.equal(persistent.result, 'SUCCESS', persistent.out);
  t.match(persistent.out, /persistent=1/);
  const transient = await runBlockGuest('blkwork', [img], 'mode=random size=4M bs=16384 qd=4 ops=80 seed=9 blkfront.persistent=0 blkfront.indirect=0');
  t.equal(transient.result, 'SUCCESS', transient.out);
  t.match(transient.out, /persistent=0 indirect=0/);
});

t.test('random torture in registered I/O memory: no bounce, grants kept until close and released then', kvmTest(), async (t) => {
  const img = image(dir, 'g.img', 8 * MiB);
  const persistent = await runBlockGuest('blkwork', [img], 'mode=random size=4M bs=4096 qd=8 ops=120 seed=11 register=1 close=1');
  t.equal(persistent.result, 'SUCCESS', persistent.out);
  t.match(persistent.out, /registered the \d+ KiB arena as I\/O memory: 0/);
  t.match(persistent.out, /bounced=0 /, 'nothing bounced');
  t.match(persistent.out, /registered=[1-9]/);
  t.match(persistent.out, /blkwork: close: 0/, 'the backend let go of every grant');
  const transient = await runBlockGuest('blkwork', [img], 'mode=random size=4M bs=16384 qd=4 ops=60 seed=13 register=1 close=1 blkfront.persistent=0');
  t.equal(transient.result, 'SUCCESS', transient.out);
  t.match(transient.out, /registered=[1-9]/);
  t.match(transient.out, /blkwork: close: 0/);
});

t.test('read-only disks refuse writes and stay unchanged', kvmTest(), async (t) => {
  const img = image(dir, 'ro.img', MiB, hostPattern);
  const before = sha256(img);
  const a = await runBlockGuest('blkwork', [`${img},ro`], 'expect-readonly=1 mode=verify-host size=1M bs=65536');
  t.equal(a.result, 'SUCCESS', a.out);
  const b = await runBlockGuest('blkbad', [`${img},ro`], 'mode=readonly');
  t.equal(b.result, 'SUCCESS', b.out);
  t.equal(sha256(img), before, 'the image is untouched');
});


t.test('the demo: hello prints the first sector of its read-only PV disk', kvmTest(), async (t) => {
  const img = join(dir, 'demo.img');
  const line = Buffer.from('a line from the host\n');
  writeFileSync(img, Buffer.concat([line, Buffer.alloc(MiB - line.length)])); // whole sectors: 2048
  const r = await runBlockGuest('hello', [`${img},ro`], '');
  t.equal(r.code, 0, r.out);
  t.match(r.out, /PV disk: 2048 sectors of 512 bytes; sector 0 says:\na line from the host\n/);
});
