// grants.test.ts: grant tables v1 — every op and error path in one domain, then two domains in
// one hypervisor sharing pages (map and copy both ways), a granter flipping its entry while the
// peer maps (never a writable mapping it did not grant), and domains destroyed with live
// mappings (the survivor keeps running; fds come back). Domain ids go on the command line.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kvmTest } from './helpers/kvm.ts';
import { ROOT, guestPath, runGuest, testResult } from './helpers/run-guest.ts';
import { Hypervisor } from '../hypervisor/domain/hypervisor.ts';
import type { Domain, DomainEnd } from '../hypervisor/domain/domain.ts';

const workerUrl = pathToFileURL(join(ROOT, 'dist', 'vcpu-worker.js'));
const openFds = (): number => readdirSync('/proc/self/fd').length;

/**
 * The fd count once it has stopped changing: used for the baseline only, since the timer/relay
 * thread opens its epoll fd on its own schedule after the first domain starts. ('dead' itself
 * waits for a domain's vCPU threads to end.)
 */
async function settledFds(): Promise<number> {
  let last = openFds();
  for (let stable = 0, waited = 0; stable < 6 && waited < 5000; waited += 50) {
    await sleep(50);
    const now = openFds();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}

interface Run {
  readonly done: Promise<{ end: DomainEnd; out: string }>;
  /** Resolves when the console has printed `text`. */
  printed(text: string): Promise<void>;
}

function watch(d: Domain): Run {
  let out = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  d.on('console', (s) => {
    out += s;
    for (const w of waiters.splice(0)) {
      if (out.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    done: new Promise((resolve) => d.once('dead', (end) => resolve({ end, out }))),
    printed: (text) => new Promise((resolve) => {
      if (out.includes(text)) resolve();
      else waiters.push({ text, resolve });
    }),
  };
}

const kernel = (): Uint8Array => new Uint8Array(readFileSync(guestPath('grant-peer')));
const base = { kernelName: 'grant-peer.elf', memoryMiB: 32, vcpus: 1, modules: [] };

const roleOf = (cmdline: string): string => /role=(\w+)/.exec(cmdline)?.[1] ?? 'peer';

/** Two grant-peer domains, each told the other's id (ids are handed out in creation order). */
function pair(hv: Hypervisor, a: string, b: string, names = ['a', 'b']): { a: Domain; b: Domain } {
  const k = kernel();
  const ida = hv.peekDomid();
  const da = hv.createDomain({ ...base, kernel: k, name: `${roleOf(a)}-${names[0]}`, cmdline: `${a} peer=${ida + 1}` });
  const db = hv.createDomain({ ...base, kernel: k, name: `${roleOf(b)}-${names[1]}`, cmdline: `${b} peer=${da.domid}` });
  if (da.domid !== ida || db.domid !== ida + 1) throw new Error(`domain ids ${da.domid}, ${db.domid}: not consecutive`);
  return { a: da, b: db };
}

function guard(...ds: Domain[]): NodeJS.Timeout {
  return setTimeout(() => { for (const d of ds) d.destroy('test timeout'); }, 90_000);
}

t.test('one domain: sizes, versions, growth, loopback map/unmap, copy, swap, every error', kvmTest(), async (t) => {
  const r = await runGuest('grant-ops', ['--cmdline', 'pins=1 maptrack=1']);
  t.equal(testResult(r.stdout), 'SUCCESS', `${r.stdout}${r.stderr}`);
  t.equal(r.code, 0);
});

t.test('two domains map and copy each other\'s pages', kvmTest(), async (t) => {
  const hv = new Hypervisor(workerUrl);
  t.teardown(() => hv.close());
  const { a, b } = pair(hv, 'role=pair', 'role=pair');
  const [ra, rb] = [watch(a), watch(b)];
  const timer = guard(a, b);
  const [ea, eb] = await Promise.all([ra.done, rb.done]);
  clearTimeout(timer);
  for (const [name, e] of [['A', ea], ['B', eb]] as const) {
    t.equal(testResult(e.out), 'SUCCESS', `${name}\n${e.out}`);
    t.match(e.out, /pair: exchanged pages/);
    t.same(e.end, { kind: 'shutdown', reason: 0 });
  }
});

for (const mode of ['ro', 'rw'] as const) {
  t.test(`a granter flipping its entry (${mode}) never yields access it did not grant`, kvmTest(), async (t) => {
    const hv = new Hypervisor(workerUrl);
    t.teardown(() => hv.close());
    const { a, b } = pair(hv, `role=flipper mode=${mode} timeout_ms=60000`, `role=flipmap mode=${mode} n=1000 timeout_ms=60000`);
    const [ra, rb] = [watch(a), watch(b)];
    const timer = guard(a, b);
    const [ea, eb] = await Promise.all([ra.done, rb.done]);
    clearTimeout(timer);
    t.equal(testResult(ea.out), 'SUCCESS', `flipper\n${ea.out}`);
    t.equal(testResult(eb.out), 'SUCCESS', `mapper\n${eb.out}`);
    const counts = /flipmap: ro (\d+), rw (\d+), copied in (\d+), refused (\d+)/.exec(eb.out);
    t.ok(counts, 'mapper reported its outcomes');
    if (counts !== null) {
      const [ro, rw, copied, refused] = counts.slice(1).map(Number) as [number, number, number, number];
      t.ok(ro > 0 && refused > 0, `both outcomes happened (ro ${ro}, refused ${refused})`);
      if (mode === 'ro') t.same([rw, copied], [0, 0], 'no writable map or copy-in of a non-writable entry');
      else t.ok(rw > 0, `writable maps succeed while granted (${rw})`);
    }
  });
}

t.test('destroying a granter revokes the pages others mapped; the holder runs on', kvmTest(), async (t) => {
  const hv = new Hypervisor(workerUrl);
  t.teardown(() => hv.close());
  const { a: victim, b: holder } = pair(hv, 'role=victim', 'role=holder');
  const [rv, rh] = [watch(victim), watch(holder)];
  const timer = guard(victim, holder);
  await rh.printed('holder: mapped');
  victim.destroy('test: granter dies with its page mapped');
  const [ev, eh] = await Promise.all([rv.done, rh.done]);
  clearTimeout(timer);
  t.same(ev.end, { kind: 'destroyed', why: 'test: granter dies with its page mapped' });
  t.equal(testResult(eh.out), 'SUCCESS', `holder\n${eh.out}`);
  t.match(eh.out, /holder: page gone/);
});

t.test('destroying a mapper drops its pins; the granter can revoke', kvmTest(), async (t) => {
  const hv = new Hypervisor(workerUrl);
  t.teardown(() => hv.close());
  const { a: survivor, b: mapper } = pair(hv, 'role=survivor', 'role=mapvictim');
  const [rs, rm] = [watch(survivor), watch(mapper)];
  const timer = guard(survivor, mapper);
  await rs.printed('survivor: mapped by peer');
  await rm.printed('mapvictim: mapped');
  mapper.destroy('test: mapper dies holding a mapping');
  const [es, em] = await Promise.all([rs.done, rm.done]);
  clearTimeout(timer);
  t.same(em.end, { kind: 'destroyed', why: 'test: mapper dies holding a mapping' });
  t.equal(testResult(es.out), 'SUCCESS', `survivor\n${es.out}`);
  t.match(es.out, /survivor: released/);
});

t.test('grant lifecycles leak no fds', kvmTest(), async (t) => {
  const hv = new Hypervisor(workerUrl);
  t.teardown(() => hv.close());
  const cycle = async (i: number): Promise<void> => {
    const { a: v, b: h } = pair(hv, 'role=victim', 'role=holder', [`victim-${i}`, `holder-${i}`]);
    const [rv, rh] = [watch(v), watch(h)];
    await rh.printed('holder: mapped');
    v.destroy('cycle');
    const [, eh] = await Promise.all([rv.done, rh.done]);
    t.equal(testResult(eh.out), 'SUCCESS', `holder\n${eh.out}`);
  };
  await cycle(-1); // warm-up: lazily created threads and caches belong to the baseline
  const fds0 = await settledFds();
  for (let i = 0; i < 5; i++) await cycle(i);
  t.equal(hv.list().length, 0, 'no domain left');
  t.equal(openFds(), fds0, 'open fds back to the baseline');
});
