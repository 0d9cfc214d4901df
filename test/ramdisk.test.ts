// ramdisk.test.ts: the example backend (written on the public SDK only) against the mock
// frontend — handshake, data both ways, contents kept across a reconnect, unsupported ops.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Ramdisk } from '../dom0/ramdisk/index.ts';
import { MockDom0, MockBlkfront, bundleWorker, OP } from './helpers/mock-frontend.ts';

t.test('a RAM disk serves blkif through the SDK', async (t) => {
  const dom0 = new MockDom0();
  dom0.guest(7);
  const rd = new Ramdisk(dom0.ctx, { workerUrl: await bundleWorker('dom0/ramdisk/worker.ts') });
  const data = new Uint8Array(rd.add(7, 51712, 1 << 20));
  t.teardown(async () => {
    await rd.remove(7);
    dom0.close();
  });
  const fe = new MockBlkfront(dom0, 7, 51712, { protocol: 'x86_32-abi' });
  await fe.connect();
  t.equal(fe.sectors, 2048);
  const w = randomBytes(20 * 512);
  t.equal(await fe.write(10, w, { firstSect: 3 }), 0, 'write');
  t.ok(Buffer.from(data.subarray(10 * 512, 30 * 512)).equals(w), 'in the RAM disk');
  const r = await fe.read(10, 20);
  t.ok(r.status === 0 && Buffer.from(r.data).equals(w), 'read back');
  t.equal((await fe.op({ op: OP.FLUSH })).status, 0, 'flush is a no-op');
  t.equal((await fe.op({ op: OP.DISCARD, sector: 0, nrSectors: 8 })).status, -2, 'discard not supported');
  t.equal((await fe.read(0, 8, { indirect: true })).status, -2, 'indirect not offered');
  t.equal((await fe.read(2047, 2)).status, -1, 'past the end');
  await fe.close();
  t.equal(dom0.liveMaps, 0, 'everything unmapped after close');

  // The frontend comes back (as after a guest reboot): same contents.
  dom0.store.write(`${fe.fe}/state`, '1');
  const again = new MockBlkfront(dom0, 7, 51712);
  await again.connect();
  t.ok(Buffer.from((await again.read(10, 20)).data).equals(w), 'contents survive a reconnect');
  await rd.remove(7);
  t.equal(dom0.liveMaps, 0);
  t.equal(dom0.channels.bound.size, 0);
  t.equal(dom0.store.read(fe.fe), null, 'nodes removed');
});
