// xenstore-ring.test.ts: the guest ring transport with a mock guest in a plain Uint8Array —
// wrapping, split messages, full rsp rings, reconnection, and hostile indices or lengths.
import t from 'tap';
import { IDX, SERVER_FEATURES } from '../dom0/xenstore/ring-transport.ts';
import { XENSTORE, XS } from '../abi/io/xs-wire.ts';
import { encodeMsg } from '../dom0/xenstore/wire.ts';

const { ERROR_PROTO, ERROR_RINGIDX } = XENSTORE.values;
import { MockGuestRing, replyStrings, startXenstored } from './helpers/xs-client.ts';

t.test('introduce advertises server_features and serves requests', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const g = h.guest(1);
  t.equal(Atomics.load(g.idx, IDX.serverFeatures), SERVER_FEATURES);
  t.equal(SERVER_FEATURES & 3, 3, 'RECONNECTION and ERROR at least');
  await g.write('k', 'v');
  t.equal(await g.read('k'), 'v');
  t.ok(g.notifications > 0, 'the guest was signalled');
  t.ok(h.xs.isIntroduced(1));
});

t.test('requests queued before the introduction are served by it', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  h.xs.local.write('/early', 'bird');
  h.xs.local.setPerms('/early', [{ id: 0, perm: 'r' }]);
  const g = new MockGuestRing();
  g.attach(() => h.xs.kick(9));
  const reply = g.request(XS.READ, ['/early']); // kick(9) is ignored: not introduced yet
  h.xs.introduceDomain(9, g.transport);
  t.equal(replyStrings(await reply)[0], 'bird');
});

t.test('messages wrap around the ring end and the u32 indices', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const g = new MockGuestRing();
  g.setIndices(0xffffffff - 700, 0xffffffff - 300);
  g.attach(() => h.xs.kick(2));
  h.xs.introduceDomain(2, g.transport);
  h.xs.local.mkdir('/local/domain/2');
  h.xs.local.setPerms('/local/domain/2', [{ id: 2, perm: 'n' }]);
  for (let i = 0; i < 30; i++) {
    const value = `${i}:${'z'.repeat(37 * i % 900)}`;
    await g.write(`key${i}`, value);
    t.equal(await g.read(`key${i}`), value);
  }
  t.ok((Atomics.load(g.idx, IDX.reqProd) >>> 0) < 0x10000, 'the req index wrapped past 2^32');
  t.ok((Atomics.load(g.idx, IDX.rspProd) >>> 0) < 0x10000, 'the rsp index wrapped past 2^32');
});

t.test('a message split across kicks is reassembled', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const g = h.guest(1);
  const msg = encodeMsg(XS.GET_DOMAIN_PATH, 42, 0, Buffer.from('1\0'));
  const reply = g.awaitReply(42);
  for (const piece of [msg.subarray(0, 3), msg.subarray(3, 16), msg.subarray(16, 17), msg.subarray(17)]) {
    g.sendRaw(piece);
  }
  t.same(replyStrings(await reply), ['/local/domain/1']);
  // And two messages in one kick, the second cut short until the next.
  const a = encodeMsg(XS.GET_DOMAIN_PATH, 43, 0, Buffer.from('2\0'));
  const b = encodeMsg(XS.GET_DOMAIN_PATH, 44, 0, Buffer.from('3\0'));
  const ra = g.awaitReply(43);
  const rb = g.awaitReply(44);
  g.sendRaw(Buffer.concat([a, b.subarray(0, 10)]));
  t.same(replyStrings(await ra), ['/local/domain/2']);
  g.sendRaw(b.subarray(10));
  t.same(replyStrings(await rb), ['/local/domain/3']);
});

t.test('replies larger than the free rsp space are streamed as the guest reads', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const g = h.guest(1);
  const big = 'B'.repeat(4000);
  h.xs.local.write('/local/domain/1/big', big);
  g.autoConsume = false;
  const reply = g.request(XS.READ, ['big']);
  await new Promise((r) => setImmediate(r));
  const rspUsed = () => ((Atomics.load(g.idx, IDX.rspProd) - Atomics.load(g.idx, IDX.rspCons)) >>> 0);
  t.equal(rspUsed(), 1024, 'the server filled the rsp ring and queued the rest');
  let rounds = 0;
  for (; rounds < 10 && g.consume() > 0; rounds++) h.xs.kick(1); // the guest reads and signals
  t.equal(rounds, 4, 'a 4016-byte reply took four ring-fulls');
  g.autoConsume = true;
  t.equal((await reply).payload.toString(), big);

  // Watch events queue the same way while rsp is full, and flush on the next kick.
  await g.watch('ev', 'tok');
  await g.drainEvents();
  g.autoConsume = false;
  h.xs.local.write('/local/domain/1/big2', big);
  const readBig = g.request(XS.READ, ['big2']);
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 5; i++) h.xs.local.write(`/local/domain/1/ev/${i}`, '');
  g.autoConsume = true;
  g.consume();
  h.xs.kick(1);
  t.equal((await readBig).payload.length, 4000);
  const evs = [];
  for (let i = 0; i < 5; i++) evs.push(await g.nextEvent());
  t.same(evs.map((e) => e.path), [0, 1, 2, 3, 4].map((i) => `ev/${i}`), 'queued events arrive in order');
});

t.test('garbage req indices: error = 2, that domain is no longer served, others are', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const bad = h.guest(1);
  const good = h.guest(2);
  const errors: [number, number][] = [];
  h.xs.on('ring-error', (d, e) => errors.push([d, e]));
  await bad.write('before', 'x');
  Atomics.store(bad.idx, IDX.reqProd, (Atomics.load(bad.idx, IDX.reqCons) + 5000) | 0);
  const rspBefore = Atomics.load(bad.idx, IDX.rspProd);
  h.xs.kick(1);
  t.equal(Atomics.load(bad.idx, IDX.error), ERROR_RINGIDX, 'error field = bad ring index');
  t.same(errors, [[1, ERROR_RINGIDX]], 'ring-error is emitted');
  Atomics.store(bad.idx, IDX.reqProd, Atomics.load(bad.idx, IDX.reqCons));
  bad.sendRaw(encodeMsg(XS.GET_DOMAIN_PATH, 5, 0, Buffer.from('1\0')));
  h.xs.kick(1);
  await new Promise((r) => setImmediate(r));
  t.equal(Atomics.load(bad.idx, IDX.rspProd), rspBefore, 'no more replies for it');
  h.xs.local.write('/anything', 'x');
  await good.write('still', 'served');
  t.equal(await good.read('still'), 'served', 'the other guest is still served');
  t.ok(h.xs.isIntroduced(1), 'the domain stays introduced until the toolstack releases it');
});

t.test('garbage rsp indices: error = 2', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const bad = h.guest(1);
  await bad.watch('w', 't');
  Atomics.store(bad.idx, IDX.rspCons, 0x7000_0000);
  h.xs.local.write('/local/domain/1/w', 'fires an event');
  t.equal(Atomics.load(bad.idx, IDX.error), ERROR_RINGIDX);
});

t.test('a header announcing more than 4096 bytes: error = 3', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const bad = h.guest(1);
  const good = h.guest(2);
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(XS.WRITE, 0);
  hdr.writeUInt32LE(4097, 12);
  bad.sendRaw(hdr);
  t.equal(Atomics.load(bad.idx, IDX.error), ERROR_PROTO);
  t.same(await good.call(XS.GET_DOMAIN_PATH, ['2']), ['/local/domain/2']);
  const full = h.guest(3);
  const max = Buffer.concat([Buffer.from('x\0'), Buffer.alloc(4094, 0x61)]);
  t.equal(await full.errorOf(XS.WRITE, max), 'ENOSPC', 'exactly 4096 bytes is a valid message (refused by the entry-size quota)');
  t.equal(Atomics.load(full.idx, IDX.error), 0, 'not a protocol error');
});

t.test('connection = RECONNECT resets the ring and the connection', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const g = h.guest(1);
  await g.watch('w', 'tok');
  const tx = await g.txStart();
  await g.drainEvents();
  // A half-written request is pending when the guest asks to reconnect.
  g.sendRaw(encodeMsg(XS.READ, 9, 0, Buffer.from('w\0')).subarray(0, 7));
  Atomics.store(g.idx, IDX.connection, 1);
  const before = g.notifications;
  h.xs.kick(1);
  t.equal(Atomics.load(g.idx, IDX.connection), 0, 'back to CONNECTED');
  t.same([IDX.reqCons, IDX.reqProd, IDX.rspCons, IDX.rspProd].map((i) => Atomics.load(g.idx, i)), [0, 0, 0, 0], 'indices zeroed');
  t.ok(g.notifications > before, 'the guest was signalled');
  h.xs.local.write('/local/domain/1/w', 'after');
  t.equal(await g.errorOf(XS.READ, ['w'], tx), 'ENOENT', 'transactions are gone');
  t.same(await g.drainEvents(), [], 'watches are gone');
  t.equal(await g.read('w'), 'after', 'the connection works again');
});

t.test('a guest that floods watches or never reads its ring only hurts itself', async (t) => {
  const h = await startXenstored({ quota: { watchesPerDomain: 1000 } });
  t.teardown(() => h.close());
  const flood = h.guest(1);
  const other = h.guest(2);
  for (let i = 0; i < 1000; i++) await flood.watch('/local/domain/1', `t${i}`);
  t.equal(await flood.errorOf(XS.WATCH, ['/local/domain/1', 'one-more']), 'E2BIG');
  flood.autoConsume = false;
  for (let i = 0; i < 30; i++) h.xs.local.write('/local/domain/1/x', String(i)); // 30 000 events
  t.ok(h.logs.some((l) => /dom1 is not reading its ring/.test(l)), 'events beyond the backlog are dropped');
  await other.write('fine', 'yes');
  t.equal(await other.read('fine'), 'yes');
  h.xs.releaseDomain(1);
  t.notOk(h.xs.isIntroduced(1));
  h.xs.kick(1);
  t.pass('kicking a released domain is ignored');
});
