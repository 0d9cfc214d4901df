// xenstore-local.test.ts: the in-process dom0 API (Xenstored.local) the toolstack and backends use.
import t from 'tap';
import { XsError, Xenstored } from '../dom0/xenstore/xenstored.ts';
import { startXenstored } from './helpers/xs-client.ts';

const tick = () => new Promise((r) => setImmediate(r));

t.test('node operations', async (t) => {
  const xs = new Xenstored();
  t.teardown(() => xs.close());
  const l = xs.local;
  t.equal(l.read('/a'), null, 'missing → null');
  t.equal(l.directory('/a'), null);
  t.equal(l.getPerms('/a'), null);
  l.write('/a/b/c', 'v');
  t.equal(l.read('/a/b/c'), 'v');
  t.equal(l.read('/a/b'), '');
  l.mkdir('/a/d');
  t.same(l.directory('/a'), ['b', 'd']);
  t.same(l.getPerms('/a/b'), [{ id: 0, perm: 'n' }]);
  l.setPerms('/a/b', [{ id: 3, perm: 'r' }, { id: 4, perm: 'b' }]);
  t.same(l.getPerms('/a/b'), [{ id: 3, perm: 'r' }, { id: 4, perm: 'b' }]);
  l.rm('/a/b');
  t.equal(l.read('/a/b/c'), null);
  l.rm('/a/b');
  l.rm('/no/such/thing');
  t.pass('rm of missing nodes is quiet');
  l.write('home', 'relative');
  t.equal(l.read('/local/domain/0/home'), 'relative', 'relative paths are under /local/domain/0');
  for (const bad of ['/a//b', '/a/', '/a b', '']) {
    t.throws(() => l.write(bad, 'x'), { code: 'EINVAL' }, `write ${JSON.stringify(bad)}`);
  }
  t.throws(() => l.setPerms('/a', []), { code: 'EINVAL' }, 'an empty perm list');
  t.throws(() => l.setPerms('/a', [{ id: -1, perm: 'r' }]), { code: 'EINVAL' });
  t.throws(() => l.setPerms('/missing', [{ id: 0, perm: 'r' }]), { code: 'ENOENT' });
  t.throws(() => l.rm('/'), { code: 'EINVAL' });
  const err = (() => {
    try {
      l.write('/x y', '');
    } catch (e) {
      return e;
    }
  })();
  t.ok(err instanceof XsError, 'errors are XsError');
});

t.test('watches: immediate, recursive, relative, unwatch, events from guests', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const l = h.xs.local;
  const seen: string[] = [];
  const unwatch = l.watch('/local/domain/1/device', (p, tok) => seen.push(`${p} ${tok}`), 'be');
  t.same(seen, [], 'delivered asynchronously, never inside the call');
  await tick();
  t.same(seen.splice(0), ['/local/domain/1/device be'], 'fires once straight away');
  const g = h.guest(1);
  await g.write('device/vbd/768/state', '1');
  t.same(seen.splice(0), ['/local/domain/1/device/vbd/768/state be'], 'a guest write below the watch');
  const rel: string[] = [];
  const unrel = l.watch('backend', (p) => rel.push(p));
  l.write('/local/domain/0/backend/vbd/1/768', 'x');
  await tick();
  t.same(rel, ['backend', 'backend/vbd/1/768'], 'relative watch, relative events');
  unrel();
  unwatch();
  l.write('/local/domain/1/device/x', '');
  l.write('/local/domain/0/backend/y', '');
  await tick();
  t.same([seen, rel.length], [[], 2], 'no events after unwatch');

  const domains: string[] = [];
  l.watch('@releaseDomain', (p) => domains.push(p));
  await tick();
  h.xs.releaseDomain(1);
  await tick();
  t.same(domains, ['@releaseDomain', '@releaseDomain']);
});

t.test('transactions', async (t) => {
  const xs = new Xenstored();
  t.teardown(() => xs.close());
  const l = xs.local;
  const events: string[] = [];
  l.watch('/tx', (p) => events.push(p));
  await tick();
  events.length = 0;
  const r = l.transaction((tx) => {
    tx.write('/tx/a', '1');
    tx.mkdir('/tx/b');
    t.equal(tx.read('/tx/a'), '1', 'the transaction sees its writes');
    t.equal(l.read('/tx/a'), null, 'outside it does not');
    return 42;
  });
  t.equal(r, 42, 'returns fn\'s result');
  t.equal(l.read('/tx/a'), '1', 'committed');
  await tick();
  t.same(events, ['/tx/a', '/tx/b'], 'events fire after the commit');
  t.throws(() => l.transaction((tx) => {
    tx.write('/tx/c', '');
    throw new Error('boom');
  }), /boom/);
  t.equal(l.read('/tx/c'), null, 'a throwing fn aborts');
});
