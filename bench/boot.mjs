// boot.mjs: `pvkvm run hello.elf` start-up — spawn → process start → first guest instruction → first output → exit, vs `node -e 0`.
import { join } from 'node:path';
import { describeFailure, guestsDir, median, pvkvmJs, requireFile, round, runProcess } from './lib.mjs';

const RUNS = Number(process.env.PVKVM_BENCH_BOOT_RUNS ?? 10);
/** DESIGN §7: first guest instruction within Node start-up + 5 ms. */
const GOAL_MARGIN_MS = 5;
const EVENTS = ['process-start', 'hypervisor-start', 'first-output', 'guest-end'];
/** The boot vCPU's first KVM_RUN entry (newer pvkvm), else its first exit (older builds). */
const FIRST_EVENTS = ['first-instruction', 'first-exit'];

/** The `pvkvm-trace EVENT EPOCH_MS` lines pvkvm prints with PVKVM_BOOT_TRACE=1. */
function parseTrace(what, r) {
  const t = {};
  for (const m of r.stderr.matchAll(/^pvkvm-trace (\S+) ([\d.]+)$/gm)) t[m[1]] ??= Number(m[2]);
  const missing = EVENTS.filter((e) => t[e] === undefined);
  const first = FIRST_EVENTS.find((e) => t[e] !== undefined);
  if (first === undefined) missing.push(FIRST_EVENTS.join(' or '));
  else { t.first = t[first]; t.firstEvent = first; }
  if (r.code !== 0 || missing.length > 0) {
    const why = missing.length > 0 ? ` (no trace for ${missing.join(', ')})` : '';
    throw new Error(describeFailure(`${what}${why}`, r));
  }
  return t;
}

export async function run({ log }) {
  const guest = requireFile(join(guestsDir, 'hello.elf'), 'run `node build.mjs` first');
  requireFile(pvkvmJs, 'run `node build.mjs` first');
  if (!(RUNS >= 1)) throw new Error('PVKVM_BENCH_BOOT_RUNS must be positive');
  const env = { ...process.env, PVKVM_BOOT_TRACE: '1' };
  const pvkvmArgs = [pvkvmJs, 'run', guest, '--timeout', '30'];

  // One untimed round of each warms the page cache (node binary, bundle, koffi, guest image).
  await runProcess(process.execPath, ['-e', '0']);
  await runProcess(process.execPath, pvkvmArgs, { env });

  const rows = [];
  let firstEvent = null;
  for (let i = 0; i < RUNS; i++) {
    const node = await runProcess(process.execPath, ['-e', '0']);
    if (node.code !== 0) throw new Error(describeFailure('node -e 0', node));
    const r = await runProcess(process.execPath, pvkvmArgs, { env, timeoutMs: 60_000 });
    const t = parseTrace(`pvkvm run hello.elf (run ${i + 1})`, r);
    firstEvent ??= t.firstEvent;
    const row = {
      node_startup_ms: node.exitAt - node.spawnAt,
      spawn_to_process_start_ms: t['process-start'] - r.spawnAt,
      process_start_to_hypervisor_start_ms: t['hypervisor-start'] - t['process-start'],
      hypervisor_start_to_first_instruction_ms: t.first - t['hypervisor-start'],
      process_start_to_first_instruction_ms: t.first - t['process-start'],
      spawn_to_first_instruction_ms: t.first - r.spawnAt,
      to_first_output_ms: t['first-output'] - t['process-start'],
      first_instruction_to_first_output_ms: t['first-output'] - t.first,
      process_start_to_guest_end_ms: t['guest-end'] - t['process-start'],
      to_exit_ms: r.exitAt - r.spawnAt,
    };
    rows.push(row);
    log(`run ${i + 1}/${RUNS}: node -e 0 ${row.node_startup_ms.toFixed(1)} ms; pvkvm first instruction ` +
      `${row.spawn_to_first_instruction_ms.toFixed(1)} ms, exit ${row.to_exit_ms.toFixed(1)} ms after spawn`);
  }

  const med = {};
  for (const k of Object.keys(rows[0])) med[k] = median(rows.map((row) => row[k]));
  const overhead = med.process_start_to_first_instruction_ms - med.node_startup_ms;
  const ratio = med.spawn_to_first_instruction_ms / med.node_startup_ms;
  const goalMs = med.node_startup_ms + GOAL_MARGIN_MS;
  const perRun = {};
  for (const k of Object.keys(rows[0])) perRun[k] = rows.map((row) => round(row[k], 2));
  const medians = Object.fromEntries(Object.entries(med).map(([k, v]) => [k, round(v, 2)]));
  return {
    summary: `ratio ${ratio.toFixed(2)} (spawn→first instruction ${med.spawn_to_first_instruction_ms.toFixed(1)} ms ÷ node -e 0 ` +
      `${med.node_startup_ms.toFixed(1)} ms; goal ≤ ${goalMs.toFixed(1)} ms); first_instruction_overhead ` +
      `${overhead.toFixed(1)} ms; first output ${med.to_first_output_ms.toFixed(1)} ms; exit ${med.to_exit_ms.toFixed(1)} ms`,
    ratio: round(ratio, 3),
    first_instruction_overhead_ms: round(overhead, 2),
    goal_ms: round(goalMs, 2),
    goal_met: med.spawn_to_first_instruction_ms <= goalMs,
    runs: RUNS,
    first_event: firstEvent,
    ...medians,
    per_run: perRun,
  };
}
