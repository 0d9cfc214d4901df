// protected-runs.test.ts: the table of RAM runs unmapped from a guest after ballooning — merging,
// splitting on repopulation, and the bound on runs (each costs the hypervisor process mappings).
import t from 'tap';
import { ProtectedRuns, MAX_RUNS } from '../hypervisor/memory/protected-runs.ts';

function recorder() {
  const calls: Array<[number, number, boolean]> = [];
  return { calls, set: (f: number, e: number, on: boolean) => { calls.push([f, e, on]); return true; } };
}

t.test('adjacent releases merge; repopulating the middle splits', async (t) => {
  const r = new ProtectedRuns();
  const { calls, set } = recorder();
  t.ok(r.release(10, 20, set));
  t.ok(r.release(20, 30, set));
  t.ok(r.release(40, 41, set));
  t.same(r.list(), [[10, 30], [40, 41]]);
  t.ok(r.has(29));
  t.notOk(r.has(30));
  t.ok(r.populate(15, 16, set));
  t.same(r.list(), [[10, 15], [16, 30], [40, 41]]);
  t.ok(r.populate(0, 100, set));
  t.same(r.list(), []);
  t.same(calls.filter((c) => c[2]).map((c) => [c[0], c[1]]), [[15, 16], [10, 15], [16, 30], [40, 41]], 'only unmapped frames are mapped back');
});

t.test('past MAX_RUNS runs a release stays mapped, and a split maps the whole run back', async (t) => {
  const r = new ProtectedRuns();
  const { calls, set } = recorder();
  for (let i = 0; i < MAX_RUNS; i++) if (!r.release(i * 4, i * 4 + 3, set)) t.fail(`run ${i}`);
  t.equal(r.count, MAX_RUNS);
  t.notOk(r.release(MAX_RUNS * 4 + 10, MAX_RUNS * 4 + 11, set), 'no room: the frame stays mapped');
  t.ok(r.release(3, 4, set), 'extending a run takes no slot (it now touches the next one: merged)');
  t.equal(r.count, MAX_RUNS - 1);
  t.ok(r.release(MAX_RUNS * 4 + 10, MAX_RUNS * 4 + 11, set), 'the freed slot takes a new run');
  t.equal(r.count, MAX_RUNS);
  calls.length = 0;
  t.ok(r.populate(1, 2, set), 'a split with the table full');
  t.same(calls, [[0, 7, true]], 'the whole run is mapped back');
  t.equal(r.count, MAX_RUNS - 1);
  t.ok(r.populate(9, 10, set), 'with a slot free, a split keeps the rest unmapped');
  t.equal(r.count, MAX_RUNS);
  t.ok(r.has(8));
  t.notOk(r.has(9));
  t.ok(r.has(10));
});

t.test('a refused mprotect records nothing', async (t) => {
  const r = new ProtectedRuns();
  t.notOk(r.release(1, 2, () => false));
  t.same(r.list(), []);
});
