// hypercall.mjs: null hypercall round trip — nullcall.elf under pvkvm vs under bench/c/exit-loop.c (same KVM exit loop in C).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, describeFailure, guestsDir, machineInfo, median, pvkvmJs, requireFile, round, runProcess } from './lib.mjs';

const RUNS = Number(process.env.PVKVM_BENCH_RUNS ?? 5);
const CALLS = Number(process.env.PVKVM_BENCH_HYPERCALLS ?? 200_000);
const MODES = ['page', 'raw'];

/** Compile the C driver into bench/build/ (gitignored); returns the binary's path. */
function buildExitLoop() {
  const out = join(benchDir, 'build');
  mkdirSync(out, { recursive: true });
  const bin = join(out, 'exit-loop');
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-o', bin, join(benchDir, 'c', 'exit-loop.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const detail = err.code === 'ENOENT' ? 'gcc not found' : String(err.stderr ?? err.message).trim().split('\n')[0];
    throw new Error(`cannot build bench/c/exit-loop.c: ${detail}`);
  }
  return bin;
}

/** Parse nullcall's `key=value` lines; checks the guest's verdict and mode. */
function parseGuest(what, r, mode) {
  const kv = {};
  for (const m of r.stdout.matchAll(/^(\w+)=(\d+|\w+)$/gm)) kv[m[1]] = m[2];
  const ok = /^Test result: SUCCESS$/m.test(r.stdout) && r.code === 0;
  if (!ok || kv.mode !== mode || kv.cycles_per_call === undefined) throw new Error(describeFailure(what, r));
  return {
    cycles: Number(kv.cycles_per_call),
    ns: kv.ns_per_call !== undefined ? Number(kv.ns_per_call) : null,
    tscKhz: kv.tsc_khz !== undefined ? Number(kv.tsc_khz) : null,
  };
}

export async function run({ log }) {
  const guest = requireFile(join(guestsDir, 'nullcall.elf'), 'run `node build.mjs` first');
  requireFile(pvkvmJs, 'run `node build.mjs` first');
  const exitLoop = buildExitLoop();
  if (!(RUNS >= 1 && CALLS >= 1)) throw new Error('PVKVM_BENCH_RUNS and PVKVM_BENCH_HYPERCALLS must be positive');

  const sides = {
    pvkvm: (cmdline) => [process.execPath, [pvkvmJs, 'run', guest, '--cmdline', cmdline, '--timeout', '120']],
    c: (cmdline) => [exitLoop, ['-q', guest, cmdline]],
  };
  const perRun = { pvkvm: { page: [], raw: [] }, c: { page: [], raw: [] } };
  let tscKhz = null;
  for (let i = 0; i < RUNS; i++) {
    // Alternate which side goes first so drift on the host affects both alike.
    const order = i % 2 === 0 ? ['pvkvm', 'c'] : ['c', 'pvkvm'];
    for (const mode of MODES) {
      for (const side of order) {
        const cmdline = `n=${CALLS}${mode === 'raw' ? ' raw=1' : ''}`;
        const [cmd, args] = sides[side](cmdline);
        const r = await runProcess(cmd, args, { timeoutMs: 180_000 });
        const g = parseGuest(`${side} ${mode} run ${i + 1}`, r, mode);
        tscKhz ??= g.tscKhz;
        perRun[side][mode].push(g);
        log(`run ${i + 1}/${RUNS} ${mode.padEnd(4)} ${side.padEnd(5)} ${g.cycles} cycles/call`);
      }
    }
  }
  if (tscKhz === null) {
    const mhz = machineInfo().cpu_mhz;
    tscKhz = mhz ? Math.round(mhz * 1000) : null;
  }
  const toNs = (cycles) => (tscKhz ? (cycles * 1e6) / tscKhz : null);

  const stats = {};
  for (const side of ['pvkvm', 'c']) {
    stats[side] = {};
    for (const mode of MODES) {
      const cycles = perRun[side][mode].map((g) => g.cycles);
      const med = median(cycles);
      stats[side][mode] = { median_cycles_per_call: med, median_ns_per_call: round(toNs(med), 1), cycles_per_call_runs: cycles };
    }
  }
  const ratio = stats.pvkvm.page.median_cycles_per_call / stats.c.page.median_cycles_per_call;
  const rawRatio = stats.pvkvm.raw.median_cycles_per_call / stats.c.raw.median_cycles_per_call;
  const overheadNs = toNs(stats.pvkvm.page.median_cycles_per_call - stats.c.page.median_cycles_per_call);
  const fmt = (s) => `${s.median_cycles_per_call} cyc/${s.median_ns_per_call ?? '?'} ns`;
  const target = 1.1;
  return {
    summary: `ratio ${ratio.toFixed(3)} (target ≤ ${target}), raw_ratio ${rawRatio.toFixed(3)}; ` +
      `page: pvkvm ${fmt(stats.pvkvm.page)} vs C ${fmt(stats.c.page)}; ` +
      `raw: pvkvm ${fmt(stats.pvkvm.raw)} vs C ${fmt(stats.c.raw)}`,
    ratio: round(ratio, 4),
    raw_ratio: round(rawRatio, 4),
    target_ratio: target,
    overhead_ns_per_call: round(overheadNs, 1),
    calls_per_run: CALLS,
    runs: RUNS,
    tsc_khz: tscKhz,
    pvkvm: stats.pvkvm,
    c: stats.c,
  };
}
