// grant-copy.mjs: GNTTABOP_copy of 4 KiB (one op per call, and 16 per call) against the guest's
// own 4 KiB word copy, measured in one guest run (grantcopy.elf).
import { describeFailure, guestsDir, median, pvkvmJs, round, runProcess } from './lib.mjs';
import { join } from 'node:path';

const RUNS = Number(process.env.PVKVM_BENCH_RUNS ?? 3);

export async function run(ctx) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await runProcess(process.execPath, [pvkvmJs, 'run', join(guestsDir, 'grantcopy.elf'), '--timeout', '120', '--cmdline', 'n=2000']);
    const m = /copy_cycles=(\d+) batch_copy_cycles=(\d+) memcpy_cycles=(\d+)/.exec(r.stdout);
    const loop = /loop_cycles_per_iter=(\d+)/.exec(r.stdout);
    if (!m || r.code !== 0) throw new Error(describeFailure('grantcopy', r));
    const run1 = { copy: Number(m[1]), batch: Number(m[2]), memcpy: Number(m[3]), loop: Number(loop?.[1] ?? 0) };
    ctx.log(`run ${i + 1}/${RUNS}: copy ${run1.copy}, batched ${run1.batch}, guest word copy ${run1.memcpy} cycles per 4 KiB`);
    runs.push(run1);
  }
  const copy = median(runs.map((r) => r.copy));
  const batch = median(runs.map((r) => r.batch));
  const memcpy = median(runs.map((r) => r.memcpy));
  // Throughput ratio: how many 4 KiB copies per second grant copy manages vs the guest's own copy.
  const ratio = memcpy / copy;
  return {
    ratio_vs_memcpy: round(ratio, 3),
    ratio_vs_memcpy_batched: round(memcpy / batch, 3),
    target_ratio: 0.5,
    copy_cycles_per_4k: copy,
    batched_copy_cycles_per_4k: batch,
    guest_copy_cycles_per_4k: memcpy,
    guest_loop_cycles_per_iteration: median(runs.map((r) => r.loop)),
    runs,
    summary: `ratio_vs_memcpy ${ratio.toFixed(2)} (grant copy ${copy} vs guest word copy ${memcpy} cycles per 4 KiB; batched ${batch})`,
  };
}
