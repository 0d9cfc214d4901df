// xenstore-persist.test.ts: the saved store keeps guests' watches across a dom0 restart — a new
// xenstored gives them back to the adopted domain (no initial event, as after Xen's live update)
// so a frontend watching its backend's state sees the new backend; a domain introduced afresh
// with a reused domid gets none; malformed watch rows in the file are skipped.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Xenstored } from '../dom0/xenstore/xenstored.ts';
import { MockGuestRing } from './helpers/xs-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvkvm-xs-persist-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function introduce(xs: Xenstored, domid: number, adopted: boolean): MockGuestRing {
  const g = new MockGuestRing();
  g.attach(() => xs.kick(domid));
  xs.introduceDomain(domid, g.transport, { adopted });
  return g;
}

t.test('an adopted guest keeps its watches; a new one with the same domid does not', async (t) => {
  const file = join(dir, 'store.json');
  const be = '/local/domain/0/backend/vbd/3/51712';
  const first = new Xenstored({ persistPath: file });
  first.local.write(`${be}/state`, '4');
  first.local.setPerms(`${be}/state`, [{ id: 0, perm: 'n' }, { id: 3, perm: 'r' }]);
  first.local.mkdir('/local/domain/3');
  first.local.setPerms('/local/domain/3', [{ id: 3, perm: 'n' }]);
  const g1 = introduce(first, 3, false);
  await g1.watch(`${be}/state`, 'be-state');
  t.same(await g1.nextEvent(), { path: `${be}/state`, token: 'be-state' }, 'fires once when set');
  await g1.watch('data', 'rel');
  await g1.nextEvent();
  await first.close(); // flushes the file, as a save shortly after the change would
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { watches: Record<string, unknown[]> };
  t.same(saved.watches['3'], [[`${be}/state`, false, 'be-state', null], ['/local/domain/3/data', true, 'rel', null]], 'the file has the guest\'s watches');

  // A new dom0: the guest is adopted and its watches work without being set again.
  const second = new Xenstored({ persistPath: file });
  t.ok(second.restored);
  const g2 = introduce(second, 3, true);
  second.local.write(`${be}/state`, '2');
  t.same(await g2.nextEvent(), { path: `${be}/state`, token: 'be-state' }, 'the backend\'s new state fires the kept watch');
  second.local.write('/local/domain/3/data/x', '1');
  t.same(await g2.nextEvent(), { path: 'data/x', token: 'rel' }, 'a relative watch still reports relative paths');
  t.equal(g2.events.length, 0, 'no initial event for a kept watch');
  await second.close();

  // A domain that is not adopted (the domid was reused) starts with no watches.
  const third = new Xenstored({ persistPath: file });
  const g3 = introduce(third, 3, false);
  third.local.write(`${be}/state`, '5');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(g3.events.length, 0, 'no watch carried over to a new domain');
  await third.close();
});

t.test('malformed watch rows are skipped, the store still loads', async (t) => {
  const file = join(dir, 'bad.json');
  const good = new Xenstored({ persistPath: file });
  good.local.write('/tool/x', 'y');
  good.local.mkdir('/local/domain/5');
  good.local.setPerms('/local/domain/5', [{ id: 5, perm: 'n' }]);
  await good.close();
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  saved.watches = { 5: [['/a', 'no', 't', null], [1, true, 't'], ['/local/domain/5/ok', false, 'tok', 2]], '0': [['/x', false, 't', null]], x: 1 };
  writeFileSync(file, JSON.stringify(saved));
  const xs = new Xenstored({ persistPath: file });
  t.ok(xs.restored, 'the tree loads');
  t.equal(xs.local.read('/tool/x'), 'y');
  const g = introduce(xs, 5, true);
  xs.local.write('/local/domain/5/ok/a/b', '1');
  xs.local.write('/local/domain/5/ok/a/b/c', '1');
  t.same(await g.nextEvent(), { path: '/local/domain/5/ok/a/b', token: 'tok' }, 'the one good row, with its depth');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(g.events.length, 0, 'depth 2 is kept: nothing deeper fires');
  await xs.close();
});

t.test('closing the daemon keeps the guests\' watches in the file', async (t) => {
  const file = join(dir, 'close.json');
  const xs = new Xenstored({ persistPath: file });
  xs.local.mkdir('/local/domain/7');
  xs.local.setPerms('/local/domain/7', [{ id: 7, perm: 'n' }]);
  const g = introduce(xs, 7, false);
  await g.watch('data', 'tok');
  await xs.close(); // drops the guest's connection (and its watches) after the last save
  await new Promise((r) => setTimeout(r, 150)); // past the saver's delay
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { watches: Record<string, unknown[]> };
  t.same(saved.watches['7'], [['/local/domain/7/data', true, 'tok', null]], 'still there for the next dom0');
});
