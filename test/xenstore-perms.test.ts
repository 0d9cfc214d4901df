// xenstore-perms.test.ts: what guests may do — Xen's permission model, relative paths, event
// visibility, privileged-only messages and per-domain quotas, with guests on mock rings.
import t from 'tap';
import { XS } from '../abi/io/xs-wire.ts';
import { startXenstored } from './helpers/xs-client.ts';

t.test('guests: relative paths, ownership and inheritance', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const g1 = h.guest(1);
  await g1.write('data/x', 'one');
  t.equal(h.xs.local.read('/local/domain/1/data/x'), 'one', 'relative to /local/domain/1');
  t.equal(await g1.read('/local/domain/1/data/x'), 'one', 'the absolute path works too');
  t.same(await g1.getPerms('data/x'), ['n1'], 'a guest owns what it creates');
  t.same(await g1.directory('data'), ['x']);
  t.same(await g1.call(XS.GET_DOMAIN_PATH, ['1']), ['/local/domain/1'], 'GET_DOMAIN_PATH is open to guests');

  h.xs.local.write('/shared', '');
  h.xs.local.setPerms('/shared', [{ id: 0, perm: 'n' }, { id: 1, perm: 'w' }, { id: 2, perm: 'r' }]);
  await g1.write('/shared/from1', 'v');
  t.same(await g1.getPerms('/shared/from1'), ['n1', 'w1', 'r2'], 'inherits the parent list with the creator as owner');
  t.equal(h.xs.local.read('/shared/from1'), 'v');
  t.equal(await g1.errorOf(XS.READ, ['/shared']), 'EACCES', 'w alone does not allow reading');
});

t.test('guests: read needs r/b, write/mkdir/rm need w/b; hidden nodes answer EACCES', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const g1 = h.guest(1);
  const g2 = h.guest(2);
  await g2.write('secret', 's');
  t.equal(await g1.errorOf(XS.READ, ['/local/domain/2/secret']), 'EACCES');
  t.equal(await g1.errorOf(XS.READ, ['/local/domain/2/absent']), 'EACCES', 'not ENOENT: existence is not leaked');
  t.equal(await g1.errorOf(XS.DIRECTORY, ['/local/domain/2']), 'EACCES');
  t.equal(await g1.errorOf(XS.GET_PERMS, ['/local/domain/2/secret']), 'EACCES');
  t.equal(await g1.errorOf(XS.READ, ['absent']), 'ENOENT', 'ENOENT where the guest may look');
  t.equal(await g1.errorOf(XS.WRITE, Buffer.from('/top\0v')), 'EACCES', 'the root is n0');
  t.equal(await g1.errorOf(XS.MKDIR, ['/local/domain/2/new']), 'EACCES');
  t.equal(await g1.errorOf(XS.RM, ['/local/domain/2/secret']), 'EACCES');
  t.equal(await g1.errorOf(XS.RM, ['/local/domain/2/absent']), 'EACCES');

  const set = (perms: string[]) => h.xs.local.setPerms('/local/domain/2/secret',
    perms.map((p) => ({ perm: p[0] as 'n' | 'r' | 'w' | 'b', id: Number(p.slice(1)) })));
  set(['n2', 'r1']);
  t.equal(await g1.read('/local/domain/2/secret'), 's', 'r allows reading');
  t.equal(await g1.errorOf(XS.WRITE, Buffer.from('/local/domain/2/secret\0x')), 'EACCES', 'r does not allow writing');
  set(['n2', 'w1']);
  t.equal(await g1.errorOf(XS.WRITE, Buffer.from('/local/domain/2/secret\0x')), 'OK', 'w allows writing');
  t.equal(await g1.errorOf(XS.READ, ['/local/domain/2/secret']), 'EACCES', 'w does not allow reading');
  set(['n2', 'b1']);
  t.equal(await g1.read('/local/domain/2/secret'), 'x', 'b allows both');
  set(['r2']);
  t.equal(await g1.read('/local/domain/2/secret'), 'x', 'the owner entry\'s letter is the default');
  set(['b2', 'n1']);
  t.equal(await g1.errorOf(XS.READ, ['/local/domain/2/secret']), 'EACCES', 'an explicit entry beats the default');
  set(['n1']);
  t.equal(await g1.read('/local/domain/2/secret'), 'x', 'the owner has full access whatever its letter');
  await g1.rm('/local/domain/2/secret');
  t.equal(h.xs.local.read('/local/domain/2/secret'), null);
});

t.test('guests: SET_PERMS is for the owner, who cannot give the node away', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const g1 = h.guest(1);
  await g1.write('mine', 'v');
  await g1.setPerms('mine', ['n1', 'r2']);
  t.same(await g1.getPerms('mine'), ['n1', 'r2']);
  t.equal(await g1.errorOf(XS.SET_PERMS, ['mine', 'n2']), 'EPERM', 'changing the owner');
  h.xs.local.write('/local/domain/1/dom0s', '');
  h.xs.local.setPerms('/local/domain/1/dom0s', [{ id: 0, perm: 'n' }, { id: 1, perm: 'b' }]);
  t.equal(await g1.errorOf(XS.SET_PERMS, ['dom0s', 'n0', 'b1', 'r5']), 'EACCES', 'b is not ownership');
  t.equal(await g1.errorOf(XS.SET_PERMS, ['@introduceDomain', 'r1']), 'EACCES');
});

t.test('guests: privileged messages answer EACCES', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const g1 = h.guest(1);
  for (const [type, args] of [
    [XS.INTRODUCE, ['5', '1', '1']], [XS.RELEASE, ['1']], [XS.IS_DOMAIN_INTRODUCED, ['1']],
    [XS.RESUME, ['1']], [XS.SET_TARGET, ['1', '2']], [XS.CONTROL, ['print', 'x']],
  ] as const) {
    t.equal(await g1.errorOf(type, args), 'EACCES', `type ${type}`);
  }
  t.ok(h.xs.isIntroduced(1));
});

t.test('SET_TARGET gives a device-model domain owner rights over its target', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const dm = h.guest(3);
  const g2 = h.guest(2);
  await g2.write('private', 'p');
  t.equal(await dm.errorOf(XS.READ, ['/local/domain/2/private']), 'EACCES');
  const c = await h.connect();
  await c.call(XS.SET_TARGET, ['3', '2']);
  t.equal(await dm.read('/local/domain/2/private'), 'p');
  await dm.write('/local/domain/2/private', 'q');
  t.equal(await g2.read('private'), 'q');
});

t.test('watch events: relative paths and visibility', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const g1 = h.guest(1);
  const g2 = h.guest(2);
  await g1.watch('device', 'dev');
  t.same(await g1.nextEvent(), { path: 'device', token: 'dev' }, 'the immediate event uses the path as given');
  h.xs.local.write('/local/domain/1/device/vbd/51712/state', '1');
  t.same(await g1.nextEvent(), { path: 'device/vbd/51712/state', token: 'dev' }, 'events are relative for a relative watch');
  await g1.watch('/local/domain/1/device', 'abs');
  await g1.drainEvents();
  h.xs.local.write('/local/domain/1/device/vif', '');
  t.same(await g1.drainEvents(), [{ path: 'device/vif', token: 'dev' }, { path: '/local/domain/1/device/vif', token: 'abs' }]);

  await g1.watch('/local/domain/2', 'spy');
  await g1.drainEvents();
  await g2.write('hidden', 'h');
  h.xs.local.write('/local/domain/2/visible', 'v');
  h.xs.local.setPerms('/local/domain/2/visible', [{ id: 2, perm: 'n' }, { id: 1, perm: 'r' }]);
  await g2.rm('hidden');
  t.same(await g1.drainEvents(), [{ path: '/local/domain/2/visible', token: 'spy' }],
    'only the change to the node it may read');

  await g1.watch('@introduceDomain', 'intro');
  await g1.drainEvents();
  h.guest(5);
  t.same(await g1.drainEvents(), [], '@introduceDomain is dom0-only by default');
  h.xs.local.setPerms('@introduceDomain', [{ id: 0, perm: 'n' }, { id: 1, perm: 'r' }]);
  h.guest(6);
  t.same(await g1.drainEvents(), [{ path: '@introduceDomain', token: 'intro' }], 'unless its perms allow');
});

t.test('quotas for guests: nodes, value size, watches, transactions', async (t) => {
  const h = await startXenstored({ quota: { nodesPerDomain: 5, watchesPerDomain: 3, transactionsPerDomain: 2, maxEntrySize: 16 } });
  t.teardown(() => h.close());
  const g1 = h.guest(1);
  // The home /local/domain/1 counts: the guest owns it.
  await g1.write('a', '');
  await g1.write('b/c', '');
  t.equal(await g1.errorOf(XS.WRITE, Buffer.from('d/e\0')), 'ENOSPC', 'needing two more nodes than allowed');
  await g1.write('d', '');
  t.equal(await g1.errorOf(XS.MKDIR, ['e']), 'ENOSPC', 'node quota');
  await g1.write('d', 'overwrite ok');
  await g1.rm('b');
  await g1.mkdir('e');
  t.pass('removing nodes gives the quota back');
  t.equal(await g1.errorOf(XS.WRITE, Buffer.from(`a\0${'x'.repeat(17)}`)), 'ENOSPC', 'value over maxEntrySize');
  await g1.write('a', 'x'.repeat(16));

  const tx = await g1.txStart();
  await g1.mkdir('f', tx);
  t.equal(await g1.errorOf(XS.MKDIR, ['g'], tx), 'ENOSPC', 'node quota counts the transaction\'s own nodes');
  await g1.txStart();
  t.equal(await g1.errorOf(XS.TRANSACTION_START, ['']), 'ENOSPC', 'transaction quota');
  await g1.txEnd(tx, false);
  await g1.txStart();
  t.pass('ending one frees a slot');

  await g1.watch('w1', 't');
  await g1.watch('w2', 't');
  await g1.watch('w3', 't');
  t.equal(await g1.errorOf(XS.WATCH, ['w4', 't']), 'E2BIG', 'watch quota');
  await g1.unwatch('w1', 't');
  await g1.watch('w4', 't');

  h.xs.local.write('/local/domain/1/many/a', 'x'.repeat(100));
  for (let i = 0; i < 20; i++) h.xs.local.write(`/local/domain/1/many/${i}`, '');
  t.pass('dom0 is not limited');
  const c = await h.connect();
  for (let i = 0; i < 12; i++) await c.txStart();
  for (let i = 0; i < 10; i++) await c.watch(`/w${i}`, 't');
  t.pass('nor are socket clients');
});
