// blk-hostile.test.ts: blkback against hostile frontends (test/guests/blkbad) — bad sectors,
// grant refs and segments get BLKIF_RSP_ERROR; a corrupted ring costs only that device.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { MiB, imageDir, image, hostPattern, runBlockGuest } from './helpers/blk.ts';

const { dir, cleanup } = imageDir();
t.teardown(cleanup);

t.test('hostile requests get BLKIF_RSP_ERROR and the device keeps working', kvmTest(), async (t) => {
  const img = image(dir, 'bad.img', MiB, hostPattern);
  for (const mode of ['range', 'badref', 'badseg']) {
    const r = await runBlockGuest('blkbad', [img], `mode=${mode}`);
    t.equal(r.result, 'SUCCESS', `${mode}: ${r.out}`);
  }
});

t.test('a frontend that corrupts its ring loses that device only', kvmTest(), async (t) => {
  const a = image(dir, 'g1.img', MiB, hostPattern);
  const b = image(dir, 'g2.img', MiB, hostPattern);
  const r = await runBlockGuest('blkbad', [a, b], 'mode=garbage disk2=1');
  t.equal(r.result, 'SUCCESS', r.out);
  t.match(r.out, /backend closed the device/);
  t.match(r.out, /second disk still works/);
});

