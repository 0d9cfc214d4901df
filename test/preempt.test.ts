// preempt.test.ts: reservation ops on huge extent lists yield with hypercall continuations (Xen's
// MEMOP_EXTENT_SHIFT progress) — whole counts at CPL 0 and through the SDK kernel at CPL 3, an
// event delivered in the middle of a call, the continuation counter, and destroy during a call
// that would otherwise run for minutes.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';
import { PREEMPT_EXTENTS } from '../hypervisor/hypercall/memory-reservation.ts';

const NBIG = 100_000;

t.test('100,000 extents in one call at CPL 0, and an event delivered in the middle of a long one', kvmTest(), async (t) => {
  const r = await runGuest('preempt', ['--cmdline', 'sdk.mode=kernel']);
  const out = `${r.stdout}\n${r.stderr}`;
  t.match(r.stdout, /preempt: at CPL 0/);
  t.match(r.stdout, /100000 extents of decrease, populate and increase in one call each/, out);
  t.match(r.stdout, /preempt: progress bits honoured/, out);
  t.match(r.stdout, /the long call ended after \d+ of 1048576 extents, 1 event\(s\) delivered during it/, out);
  t.equal(testResult(r.stdout), 'SUCCESS', out);
});

t.test('from CPL 3 through the SDK kernel (batches, progress bits, limits)', kvmTest(), async (t) => {
  const r = await runGuest('preempt', ['--cmdline', 'n=3000']);
  const out = `${r.stdout}\n${r.stderr}`;
  t.match(r.stdout, /preempt: at CPL 3/);
  t.match(r.stdout, /3000 extents of decrease, populate and increase in one call each/, out);
  t.equal(testResult(r.stdout), 'SUCCESS', out);
});

t.test('the hypervisor counts continuations, and destroy ends a domain in the middle of a very long call', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const consoleOf = (name: string): string => {
    const log = join(d.runDir, 'logs', `console-${name}.log`);
    return existsSync(log) ? readFileSync(log, 'utf8') : '';
  };

  const created = await d.cli(['create', d.config('held', 'preempt', { memory: 512, cmdline: 'sdk.mode=kernel hold=1' })]);
  t.equal(created.code, 0, created.stderr);
  t.ok(await eventually(() => (consoleOf('held').includes('preempt: holding') ? true : undefined), 240_000), 'the checks ran');
  t.match(consoleOf('held'), /preempt: holding, checks passed/, consoleOf('held'));
  const info = await d.cli(['info', 'held']);
  t.equal(info.code, 0, info.stderr);
  const exits = (JSON.parse(info.stdout) as { exits: Record<string, number> }).exits;
  // Four calls of 100,000 extents yield at least once per PREEMPT_EXTENTS (more with events).
  const least = 4 * Math.floor((NBIG - 1) / PREEMPT_EXTENTS);
  t.ok((exits.continuation ?? 0) >= least, `${exits.continuation} continuations (at least ${least})`);
  t.ok((exits.hypercall ?? 0) > (exits.continuation ?? 0), 'each is also a hypercall exit');
  t.equal((await d.cli(['destroy', 'held'])).code, 0);

  // A call on 2^20 extents takes minutes; the domain is destroyed during it.
  const long = await d.cli(['create', d.config('long', 'preempt', { memory: 512, cmdline: 'sdk.mode=kernel long=1' })]);
  t.equal(long.code, 0, long.stderr);
  t.ok(await eventually(() => (consoleOf('long').includes('starting a call') ? true : undefined), 120_000), 'the call began');
  const destroyed = await d.cli(['destroy', 'long']);
  t.equal(destroyed.code, 0, destroyed.stderr);
  const list = await d.cli(['list', '--json']);
  t.same(JSON.parse(list.stdout), [], 'gone');
  t.notMatch(consoleOf('long'), /the call returned/, 'destroyed before the call could end');
});
