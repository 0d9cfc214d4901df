// xenstore-watch-tx.test.ts: transactions and watches over the Unix socket — snapshots, commit,
// abort, EAGAIN, and watch semantics (immediate fire, recursion, depth, specials, commit-only).
import t from 'tap';
import { XS } from '../abi/io/xs-wire.ts';
import { errorCode, replyStrings, startXenstored } from './helpers/xs-client.ts';

t.test('transactions: snapshot reads, commit, abort, EAGAIN, unknown ids', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const a = await h.connect();
  const b = await h.connect();
  await a.write('/t/k', 'before');
  const tx = await a.txStart();
  t.ok(tx > 0, 'TRANSACTION_START returns a decimal id');
  await a.write('/t/k', 'in-tx', tx);
  await a.write('/t/new', 'n', tx);
  t.equal(await a.read('/t/k', tx), 'in-tx', 'the transaction sees its own writes');
  t.equal(await b.read('/t/k'), 'before', 'others do not');
  t.equal(await b.errorOf(XS.READ, ['/t/new']), 'ENOENT');
  t.same(await a.directory('/t', tx), ['k', 'new']);
  await a.txEnd(tx, true);
  t.equal(await b.read('/t/k'), 'in-tx', 'commit publishes');
  t.equal(await b.read('/t/new'), 'n');

  const ab = await a.txStart();
  await a.write('/t/k', 'aborted', ab);
  await a.rm('/t/new', ab);
  await a.txEnd(ab, false);
  t.equal(await b.read('/t/k'), 'in-tx', 'abort discards');
  t.equal(await b.read('/t/new'), 'n');

  const c1 = await a.txStart();
  t.equal(await a.read('/t/k', c1), 'in-tx');
  await b.write('/t/k', 'interloper');
  t.equal(await a.read('/t/k', c1), 'in-tx', 'a snapshot: later outside writes are not seen');
  await a.write('/t/other', 'x', c1);
  t.equal(await a.errorOf(XS.TRANSACTION_END, ['T'], c1), 'EAGAIN', 'a node it read changed: EAGAIN');
  t.equal(await b.errorOf(XS.READ, ['/t/other']), 'ENOENT', 'nothing of the failed transaction is applied');
  t.equal(await a.errorOf(XS.TRANSACTION_END, ['T'], c1), 'ENOENT', 'the failed transaction is gone');

  const c2 = await a.txStart();
  await a.write('/t/fresh', '1', c2);
  await b.write('/t/fresh', '2');
  t.equal(await a.errorOf(XS.TRANSACTION_END, ['T'], c2), 'EAGAIN', 'a node created by both sides conflicts');

  const c3 = await a.txStart();
  await a.write('/t/k', 'mine', c3);
  await b.write('/elsewhere', 'z');
  await a.txEnd(c3, true);
  t.equal(await b.read('/t/k'), 'mine', 'unrelated changes do not conflict');

  t.equal(await a.errorOf(XS.READ, ['/t/k'], 4242), 'ENOENT', 'unknown tx id');
  t.equal(await a.errorOf(XS.TRANSACTION_END, ['T'], 0), 'ENOENT', 'TRANSACTION_END without a transaction');
  const c4 = await a.txStart();
  t.equal(await a.errorOf(XS.TRANSACTION_END, ['X'], c4), 'EINVAL', 'TRANSACTION_END wants T or F');
  t.equal(await b.errorOf(XS.READ, ['/t/k'], c4), 'ENOENT', 'transactions belong to their connection');
});

t.test('watches: immediate fire, recursion, rm of ancestors, depth, UNWATCH, RESET_WATCHES', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const w = await h.connect();
  const o = await h.connect();
  const wm = await w.request(XS.WATCH, ['/w/a', 'tok']);
  t.equal(errorCode(wm), undefined);
  const idx = w.received.indexOf(wm);
  t.same(await w.nextEvent(), { path: '/w/a', token: 'tok' }, 'fires once straight away');
  t.equal(w.received[idx + 1]?.type, XS.WATCH_EVENT, '…right after the OK reply');
  t.same([w.received[idx + 1]!.reqId, w.received[idx + 1]!.txId], [0, 0], 'WATCH_EVENT has req_id = tx_id = 0');

  await o.write('/w/a', '1');
  t.same(await w.nextEvent(), { path: '/w/a', token: 'tok' }, 'a write of the node');
  await o.write('/w/a/b/c', '1');
  t.same(await w.nextEvent(), { path: '/w/a/b/c', token: 'tok' }, 'a write below it (one event, the node written)');
  await o.setPerms('/w/a/b', ['n0', 'r1']);
  t.same(await w.nextEvent(), { path: '/w/a/b', token: 'tok' }, 'SET_PERMS');
  await o.mkdir('/w/a/d');
  t.same(await w.nextEvent(), { path: '/w/a/d', token: 'tok' }, 'MKDIR');
  await o.mkdir('/w/a/d');
  await o.write('/w/ab', 'sibling with a common prefix');
  await o.write('/w', 'parent');
  t.same(await w.drainEvents(), [], 'no event for an existing MKDIR, prefixes that are not ancestors, or parents');
  await o.rm('/w/a/b');
  t.same(await w.nextEvent(), { path: '/w/a/b', token: 'tok' }, 'RM below');
  await o.rm('/w');
  t.same(await w.nextEvent(), { path: '/w/a', token: 'tok' }, 'RM of an ancestor reports the watched path');

  await w.watch('/d', 'depth0', 0);
  await w.watch('/d', 'depth1', 1);
  await w.drainEvents();
  await o.write('/d/x/y', '');
  await o.write('/d/x', '');
  await o.write('/d', '');
  t.same(await w.drainEvents(), [
    { path: '/d/x', token: 'depth1' },
    { path: '/d', token: 'depth0' }, { path: '/d', token: 'depth1' },
  ], 'a depth limits the levels below that fire');

  t.equal(await w.errorOf(XS.WATCH, ['/d', 'depth0']), 'EEXIST', 'same path and token again');
  await w.watch('/d', 'other-token');
  await w.unwatch('/d', 'depth0');
  t.equal(await w.errorOf(XS.UNWATCH, ['/d', 'depth0']), 'ENOENT', 'unwatching twice');
  t.equal(await w.errorOf(XS.UNWATCH, ['/never', 't']), 'ENOENT');
  t.equal(await w.errorOf(XS.WATCH, ['/d']), 'EINVAL', 'the token is required');
  t.equal(await w.errorOf(XS.WATCH, ['/d//x', 't']), 'EINVAL');
  await w.drainEvents();
  t.same(replyStrings(await w.request(XS.RESET_WATCHES, [''])), ['OK']);
  await o.write('/d', 'again');
  t.same(await w.drainEvents(), [], 'RESET_WATCHES removed every watch');
  await w.watch('/d', 'depth0');
  t.pass('and the same watch can be registered again');
});

t.test('watches fire on commit only, and not for aborted transactions', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const w = await h.connect();
  const o = await h.connect();
  await w.watch('/tx', 'T');
  await w.nextEvent();
  const tx = await o.txStart();
  await o.write('/tx/a', '1', tx);
  await o.rm('/tx/a', tx);
  await o.write('/tx/b', '2', tx);
  t.same(await w.drainEvents(), [], 'nothing while the transaction is open');
  await o.txEnd(tx, true);
  t.same(await w.drainEvents(), [
    { path: '/tx/a', token: 'T' }, { path: '/tx/a', token: 'T' }, { path: '/tx/b', token: 'T' },
  ], 'the transaction\'s events on commit');
  const ab = await o.txStart();
  await o.write('/tx/c', '3', ab);
  await o.txEnd(ab, false);
  t.same(await w.drainEvents(), [], 'nothing for an abort');
});

t.test('special watches: @introduceDomain, @releaseDomain and @releaseDomain/<domid>', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const w = await h.connect();
  await w.watch('@introduceDomain', 'intro');
  await w.watch('@releaseDomain', 'rel');
  await w.watch('@releaseDomain', 'rel-depth', 1);
  await w.watch('@releaseDomain/3', 'rel3');
  t.same(await w.drainEvents(), [
    { path: '@introduceDomain', token: 'intro' }, { path: '@releaseDomain', token: 'rel' },
    { path: '@releaseDomain', token: 'rel-depth' }, { path: '@releaseDomain/3', token: 'rel3' },
  ], 'each fires once on registration');
  const released: number[] = [];
  h.xs.on('domain-released', (d) => released.push(d));
  h.guest(3);
  t.same(await w.drainEvents(), [{ path: '@introduceDomain', token: 'intro' }]);
  h.xs.releaseDomain(3);
  t.same(await w.drainEvents(), [
    { path: '@releaseDomain', token: 'rel' }, { path: '@releaseDomain/3', token: 'rel-depth' },
    { path: '@releaseDomain/3', token: 'rel3' },
  ]);
  t.same(released, [3], 'domain-released is emitted');
  t.equal(h.xs.local.read('/local/domain/3'), '', 'release leaves the domain\'s nodes to the toolstack');
});
