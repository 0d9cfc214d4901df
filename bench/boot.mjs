// boot.mjs: `pvkvm run hello.elf` start-up — spawn → process start → first guest instruction → first output → exit, vs `node -e 0`;
// and, with the daemons already up, the toolstack's `create` request → the guest's first instruction.
import { join } from 'node:path';
import { describeFailure, epochMs, guestsDir, median, pvkvmJs, requireFile, round, runProcess } from './lib.mjs';
import { loadControlClient, startDaemons } from './guest-window.mjs';

const RUNS = Number(process.env.PVKVM_BENCH_BOOT_RUNS ?? 10);
/** docs/performance.md §2: first guest instruction within Node start-up + 5 ms. */
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

/**
 * One `create` through dom0's toolstack socket, as `pvkvm run` sends it (console stream on the same
 * connection), on a connection opened beforehand. Times (epoch ms, this process's clock except
 * `first-entry`, which the vCPU worker stamps) from just before the request is written to: the
 * reply, the first guest instruction, the first console output, and the domain's end.
 */
async function createOnce(ControlClient, runDir, guest, name) {
  const client = await ControlClient.connect(runDir);
  try {
    const t = { reply: NaN, first: NaN, output: NaN, end: NaN };
    let text = '';
    const done = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no end within 30 s`)), 30_000);
      const check = () => {
        if (Number.isFinite(t.end) && Number.isFinite(t.first)) { clearTimeout(timer); resolve(); }
      };
      client.on('first-entry', (atMs) => { t.first = atMs; check(); });
      client.on('output', (bytes) => { if (!Number.isFinite(t.output)) t.output = epochMs(); text += bytes.toString('utf8'); });
      client.once('end', (end) => {
        t.end = epochMs();
        if (end.kind !== 'shutdown') { clearTimeout(timer); reject(new Error(`${name}: ${end.kind} (${end.detail})`)); }
        check();
      });
      client.once('close', () => { clearTimeout(timer); reject(new Error(`${name}: dom0 closed the connection`)); });
    });
    done.catch(() => undefined); // observed below
    const settings = {
      name, kernel: guest, cmdline: '', memoryMiB: 64, vcpus: 1, modules: [],
      onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy',
    };
    const sentAt = epochMs();
    await client.request('create', { settings, console: true });
    t.reply = epochMs();
    await done;
    if (!/^Hello from a pvkvm PVH guest!/m.test(text)) throw new Error(`${name}: unexpected console output '${text.trim().slice(0, 200)}'`);
    return {
      create_to_first_instruction_ms: t.first - sentAt,
      create_to_reply_ms: t.reply - sentAt,
      create_to_first_output_ms: t.output - sentAt,
      create_to_end_ms: t.end - sentAt,
    };
  } finally {
    client.close();
  }
}

export async function run({ log }) {
  const guest = requireFile(join(guestsDir, 'hello.elf'), 'run `node build.mjs` first');
  requireFile(pvkvmJs, 'run `node build.mjs` first');
  if (!(RUNS >= 1)) throw new Error('PVKVM_BENCH_BOOT_RUNS must be positive');
  const env = { ...process.env, PVKVM_BOOT_TRACE: '1' };
  const pvkvmArgs = [pvkvmJs, 'run', guest, '--timeout', '30'];

  const ControlClient = await loadControlClient();
  const daemons = await startDaemons();
  try {
    // One untimed round of each warms the page cache (node binary, bundle, koffi, guest image).
    await runProcess(process.execPath, ['-e', '0']);
    await runProcess(process.execPath, pvkvmArgs, { env });
    await createOnce(ControlClient, daemons.runDir, guest, 'boot-warm');
    return await measure(log, ControlClient, daemons.runDir, guest, env, pvkvmArgs);
  } finally {
    await daemons.down();
  }
}

async function measure(log, ControlClient, runDir, guest, env, pvkvmArgs) {
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
      // Daemons already up (`pvkvm up`): `create` request → first guest instruction, and the rest.
      ...(await createOnce(ControlClient, runDir, guest, `boot-${i}`)),
    };
    rows.push(row);
    log(`run ${i + 1}/${RUNS}: node -e 0 ${row.node_startup_ms.toFixed(1)} ms; pvkvm first instruction ` +
      `${row.spawn_to_first_instruction_ms.toFixed(1)} ms, exit ${row.to_exit_ms.toFixed(1)} ms after spawn; ` +
      `create → first instruction ${row.create_to_first_instruction_ms.toFixed(1)} ms`);
  }

  const med = {};
  for (const k of Object.keys(rows[0])) med[k] = median(rows.map((row) => row[k]));
  const overhead = med.process_start_to_first_instruction_ms - med.node_startup_ms;
  const ratio = med.spawn_to_first_instruction_ms / med.node_startup_ms;
  const createRatio = med.create_to_first_instruction_ms / med.node_startup_ms;
  const goalMs = med.node_startup_ms + GOAL_MARGIN_MS;
  const perRun = {};
  for (const k of Object.keys(rows[0])) perRun[k] = rows.map((row) => round(row[k], 2));
  const medians = Object.fromEntries(Object.entries(med).map(([k, v]) => [k, round(v, 2)]));
  return {
    summary: `ratio ${ratio.toFixed(2)} (spawn→first instruction ${med.spawn_to_first_instruction_ms.toFixed(1)} ms ÷ node -e 0 ` +
      `${med.node_startup_ms.toFixed(1)} ms; goal ≤ ${goalMs.toFixed(1)} ms); first_instruction_overhead ` +
      `${overhead.toFixed(1)} ms; first output ${med.to_first_output_ms.toFixed(1)} ms; exit ${med.to_exit_ms.toFixed(1)} ms; ` +
      `daemons up: create→first instruction ${med.create_to_first_instruction_ms.toFixed(1)} ms (÷ node -e 0 ${createRatio.toFixed(2)})`,
    ratio: round(ratio, 3),
    create_ratio: round(createRatio, 3),
    first_instruction_overhead_ms: round(overhead, 2),
    goal_ms: round(goalMs, 2),
    goal_met: med.spawn_to_first_instruction_ms <= goalMs,
    runs: RUNS,
    first_event: firstEvent,
    ...medians,
    per_run: perRun,
  };
}
