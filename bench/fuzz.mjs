// fuzz.mjs: `npm run fuzz` — the fuzz tests (hypercall fuzzer guest from CPL 3, CPL 0 and 32-bit mode, protocol and
// ring fuzzers, the coverage-guided parser fuzzer, the xenstore ring flood) at a larger
// scale, bounded in time, then bench/results/fuzz.json with what was tried and what survived.
//   node bench/fuzz.mjs [--scale N] [--seed S] [--minutes M]
//   (env: PVKVM_FUZZ_SCALE, PVKVM_FUZZ_SEED, PVKVM_FUZZ_MINUTES; defaults 10, 1, 10)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, env, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i >= 0 ? process.argv[i + 1] : process.env[env] ?? dflt);
};
const scale = arg('scale', 'PVKVM_FUZZ_SCALE', 10);
const seed = arg('seed', 'PVKVM_FUZZ_SEED', 1);
const minutes = arg('minutes', 'PVKVM_FUZZ_MINUTES', 10);
const out = path.join(tmpdir(), `pvkvm-fuzz-${process.pid}.jsonl`);
rmSync(out, { force: true });

const tests = ['test/hcfuzz.test.ts', 'test/hcfuzz32.test.ts', 'test/protocol-fuzz.test.ts', 'test/ring-fuzz.test.ts', 'test/coverage-fuzz.test.ts', 'test/xenstore-flood.test.ts'];
console.log(`fuzz: scale ${scale}, seed ${seed}, at most ${minutes} min: ${tests.join(' ')}`);
const env = { ...process.env, CI: 'true', PVKVM_FUZZ_SCALE: String(scale), PVKVM_FUZZ_SEED: String(seed), PVKVM_FUZZ_OUT: out };
const started = Date.now();
const child = spawn('npx', ['tap', '--timeout', String(minutes * 60), ...tests], { cwd: root, env, stdio: 'inherit' });
// The time bound: tap's own per-file timeout, and this kill as a backstop.
const killer = setTimeout(() => child.kill('SIGTERM'), (minutes * 60 + 60) * 1000);
const code = await new Promise((res) => child.on('close', res));
clearTimeout(killer);

const entries = existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
rmSync(out, { force: true });
const sum = (kind, key) => entries.filter((e) => !kind || e.kind === kind).reduce((a, e) => a + e[key], 0);
const result = {
  date: new Date().toISOString(),
  seconds: Math.round((Date.now() - started) / 1000),
  seed, scale,
  hypercalls: sum('hypercalls', 'count'),
  frames: sum('frames', 'count'),
  coverage_inputs: sum('inputs', 'count'),
  coverage_blocks: sum('inputs', 'blocks'),
  crashes: sum(null, 'crashes'),
  hangs: sum(null, 'hangs'),
  tests_passed: code === 0,
  targets: entries,
};
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'bench', 'results', 'fuzz.json'), `${JSON.stringify(result, null, 2)}\n`);
for (const e of entries) console.log(`fuzz: ${e.target}: ${e.count} ${e.kind} (seed ${e.seed}), crashes ${e.crashes}, hangs ${e.hangs}`);
console.log(`fuzz: ${result.hypercalls} hypercalls, ${result.frames} frames, ${result.coverage_inputs} coverage-guided inputs (${result.coverage_blocks} blocks), ${result.crashes} crashes, ${result.hangs} hangs in ${result.seconds} s; tests ${code === 0 ? 'passed' : 'FAILED'} → bench/results/fuzz.json`);
process.exit(code === 0 ? 0 : 1);
