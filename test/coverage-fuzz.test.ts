// coverage-fuzz.test.ts: coverage-guided fuzzing (test/helpers/coverage-fuzz.ts, on V8's precise
// block coverage) of the parsers that take hostile bytes — xs_wire framing, xenstored's request
// handling, the privileged interface's frames, save files, xl.cfg, netback's TX requests and
// blkback's request decoding. Each target runs in a worker: any exception but the target's own
// error type or a broken invariant is a crash, and a worker that stops making progress is a hang.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { TARGETS } from './helpers/coverage-targets.ts';
import type { CoverageJob } from './helpers/coverage-worker.ts';
import type { FuzzStats } from './helpers/coverage-fuzz.ts';
import { iterations, fuzzSeed, report } from './helpers/fuzz.ts';

const INPUTS = iterations(300);
const SEED = fuzzSeed(1);
/**
 * Stop early past this (a loaded host), whatever the count: the time bound of a run. Seven targets
 * and the planted bug must stay well inside tap's 300 s per file on a busy 2-core machine.
 */
const TARGET_MS = 20_000 * Math.max(1, INPUTS / 500);
/** No progress report for this long is a hang (inputs take microseconds to milliseconds). */
const HANG_MS = 120_000;
const MAX_INPUT = 1 << 16;

interface Outcome { stats: FuzzStats | null; hung: string | null; error: string | null }

function runTarget(target: string, seed: number, inputs = INPUTS, ms = TARGET_MS): Promise<Outcome> {
  const current = new SharedArrayBuffer(4 + MAX_INPUT);
  const job: CoverageJob = { target, seed, iterations: inputs, deadline: Date.now() + ms, stopOnCrash: target === 'planted', current };
  const w = new Worker(new URL('./helpers/coverage-worker.ts', import.meta.url), { workerData: job });
  return new Promise((resolve) => {
    let watchdog: NodeJS.Timeout;
    const done = (o: Outcome): void => { clearTimeout(watchdog); void w.terminate(); resolve(o); };
    const arm = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        const n = Atomics.load(new Int32Array(current, 0, 1), 0);
        done({ stats: null, hung: Buffer.from(new Uint8Array(current, 4, n)).toString('hex'), error: null });
      }, HANG_MS);
    };
    arm();
    w.on('message', (m: { progress?: FuzzStats; done?: FuzzStats }) => {
      if (m.done) done({ stats: m.done, hung: null, error: null });
      else arm();
    });
    w.on('error', (e) => done({ stats: null, hung: null, error: String(e) }));
    w.on('exit', (code) => done({ stats: null, hung: null, error: `worker exited (${code})` }));
  });
}

t.test('the fuzzer itself: coverage leads it to a bug behind four nested checks, and it reports it', async (t) => {
  /* (a generous time bound: it stops as soon as it has the bug, in a few thousand inputs) */
  const o = await runTarget('planted', 1, 50_000, 90_000);
  t.equal(o.error, null);
  const found = o.stats?.crashes.find((c) => c.error === 'RangeError: planted bug reached');
  t.ok(found, `found and reported (after ${o.stats?.inputs} inputs)`);
  t.match(found?.input ?? '', /^5.a.3.c/, 'with the input that reached it');
});

for (const [i, target] of TARGETS.entries()) {
  t.test(`coverage fuzz ${target.name}: ${INPUTS} inputs, no crash, no hang`, async (t) => {
    const seed = SEED + i;
    const o = await runTarget(target.name, seed);
    const s = o.stats;
    report({ target: `coverage-${target.name}`, kind: 'inputs', count: s?.inputs ?? 0, seed, crashes: s ? s.crashes.length : o.error ? 1 : 0, hangs: o.hung === null ? 0 : 1, blocks: s?.blocks ?? 0, corpus: s?.corpus ?? 0 });
    t.equal(o.hung, null, 'no hang (the hex is the input that was running)');
    t.equal(o.error, null, 'the worker ran to the end');
    if (!s) return;
    t.comment(`${target.name}: ${s.inputs} inputs, ${s.blocks} blocks reached, corpus ${s.corpus}, seed ${seed}`);
    t.same(s.crashes, [], 'no input broke an invariant or threw an undocumented error');
    t.ok(s.corpus > target.seeds().length, 'coverage guided the search: mutants reached new blocks');
    t.ok(s.inputs > 0);
  });
}
