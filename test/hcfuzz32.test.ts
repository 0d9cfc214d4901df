// hcfuzz32.test.ts: the hypercall fuzzer guest (test/guests/hcfuzz) with abi=32 — every call from
// 32-bit compatibility mode at CPL 0, with the i386 convention and layouts — on 1 and 2 vCPUs and
// beside a guest doing verified block I/O. The hypervisor must answer every call, give the answers
// the guest's between-call checks expect, and keep serving the other guest.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';
import { MiB, imageDir, image, blkworkConfig } from './helpers/blk.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';
import { iterations, fuzzSeed, report } from './helpers/fuzz.ts';

/* Every instruction of CPL-0 code is emulated here (~2k cycles each), and a 32-bit call costs two
 * mode switches more: a few hundred calls per vCPU are some seconds. */
const CALLS = iterations(200);
const SEED = fuzzSeed(1);

for (const vcpus of [1, 2]) {
  t.test(`hcfuzz abi=32: ${CALLS} calls per vCPU from 32-bit mode on ${vcpus} vCPU(s), all answered, none wrong`, kvmTest(), async (t) => {
    const seed = SEED + vcpus - 1;
    const r = await runGuest('hcfuzz', ['--vcpus', String(vcpus), '--timeout', String(120 + Math.ceil(CALLS / 20)),
      '--cmdline', `sdk.mode=kernel abi=32 seed=${seed} calls=${CALLS}`]);
    const answered = Number(/answered (\d+) of/.exec(r.stdout)?.[1] ?? 0);
    report({ target: `hcfuzz-32bit-${vcpus}vcpu`, kind: 'hypercalls', count: answered, seed, crashes: r.code !== 0 && r.code !== 124 ? 1 : 0, hangs: r.code === 124 ? 1 : 0 });
    t.equal(testResult(r.stdout), 'SUCCESS', `${r.stdout}\n${r.stderr}`);
    t.match(r.stdout, / mode=kernel abi=32 /);
    t.match(r.stdout, /hcfuzz: wrong answers 0\n/);
    t.match(r.stdout, new RegExp(`answered ${CALLS * vcpus} of ${CALLS * vcpus} calls`));
    t.equal(r.code, 0, 'powered off, as the fuzzer does at the end (no shutdown reason latched by a fuzzed call)');
  });
}

t.test('hcfuzz abi=32 needs CPL 0: from the SDK\'s CPL-3 mode it says so and fails', kvmTest(), async (t) => {
  const r = await runGuest('hcfuzz', ['--cmdline', 'abi=32 calls=1']);
  t.match(r.stdout, /hcfuzz: abi=32 needs sdk.mode=kernel/);
  t.equal(testResult(r.stdout), 'FAILURE');
});

t.test('hcfuzz abi=32 on 2 vCPUs beside blkwork: the disk I/O stays correct and both finish', kvmTest(), async (t) => {
  const { dir, cleanup } = imageDir();
  t.teardown(cleanup);
  const d = await startDaemons();
  t.teardown(() => d.down());
  const img = image(dir, 'fuzz32-neighbour.img', 8 * MiB);
  const blk = blkworkConfig(d.runDir, 'work', img, 'mode=random size=4M bs=4096 qd=8 ops=400 seed=21');
  const fuzz = d.config('fuzz', 'hcfuzz', { vcpus: 2, cmdline: `sdk.mode=kernel abi=32 seed=${SEED + 41} calls=${CALLS}` });
  t.equal((await d.cli(['create', blk])).code, 0);
  t.equal((await d.cli(['create', fuzz])).code, 0);
  const done = await eventually(async () => {
    const l = JSON.parse((await d.cli(['list', '--json'])).stdout) as unknown[];
    return l.length === 0 ? true : undefined;
  }, 240_000 + CALLS * 40); /* a bound against hangs, not a speed check: scaled runs take longer */
  t.ok(done, 'both domains finished');
  const log = (n: string): string => readFileSync(join(d.runDir, 'logs', `console-${n}.log`), 'utf8');
  t.match(log('work'), /Test result: SUCCESS/, 'blkwork verified every read');
  t.match(log('fuzz'), new RegExp(`answered ${2 * CALLS} of ${2 * CALLS} calls`), 'every fuzz call answered');
  t.match(log('fuzz'), /hcfuzz: wrong answers 0\n/);
  t.match(log('fuzz'), /Test result: SUCCESS/);
  t.equal((await d.cli(['list'])).code, 0, 'the toolstack still answers');
});
