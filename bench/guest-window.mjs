// guest-window.mjs: helpers for benchmarks that run a guest on pvkvm's daemons and take counters
// over the guest's measured phase ("window") — the toolstack client, `pvkvm up` in a private run
// directory, KVM tracepoint counts through perf, CPU time per process and thread from /proc, and
// one guest run with counters between two console markers. The same technique as block.mjs.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFailure, epochMs, pvkvmJs, root, runProcess, importBundled } from './lib.mjs';

// ---- daemons and the toolstack client ----

/** Bundle the CLI's toolstack client (cli/control-client.ts) so plain .mjs can use it. */
export async function loadControlClient() {
  return (await importBundled('cli/control-client.ts', 'control-client')).ControlClient;
}

/** `pvkvm up` in a private run directory; `down()` stops the daemons and removes it. */
export async function startDaemons(prefix = 'pvkvm-bench-run-') {
  const runDir = mkdtempSync(join(tmpdir(), prefix));
  const env = { ...process.env, PVKVM_RUN_DIR: runDir };
  const cli = (args, opts = {}) => runProcess(process.execPath, [pvkvmJs, ...args], { env, timeoutMs: 60_000, ...opts });
  const pid = (kind) => {
    try {
      const n = Number(readFileSync(join(runDir, `${kind}.pid`), 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : null;
    } catch { return null; }
  };
  const down = async () => {
    await cli(['down'], { timeoutMs: 30_000 }).catch(() => undefined);
    for (const kind of ['dom0', 'hypervisor']) {
      const p = pid(kind);
      if (p !== null) try { process.kill(p, 'SIGTERM'); } catch { /* gone, as it should be */ }
    }
    rmSync(runDir, { recursive: true, force: true });
  };
  const up = await cli(['up']);
  if (up.code !== 0) {
    await down();
    throw new Error(describeFailure('pvkvm up', up));
  }
  const pids = { hypervisor: pid('hypervisor'), dom0: pid('dom0') };
  if (pids.hypervisor === null || pids.dom0 === null) {
    await down();
    throw new Error(`pvkvm up: no pid files in ${runDir}`);
  }
  return { runDir, pids, cli, down };
}

// ---- KVM's own counts (tracepoints through perf) ----

/**
 * KVM tracepoints counted with `perf stat -p PID` (inherited by threads started later), switched
 * on and off through perf's control FIFO. When /sys/kernel/tracing is not mounted, tracefs is
 * mounted for perf alone in a private mount namespace (`unshare -m`, needs root). See block.mjs
 * and bench/README.md for why KVM's own counters (debugfs, KVM_GET_STATS_FD) cannot be read here.
 */
export const KVM_EVENTS = ['kvm_pio', 'kvm_userspace_exit', 'kvm_msr', 'kvm_cpuid', 'kvm_mmio', 'kvm_fast_mmio', 'kvm_hypercall',
  'kvm_vcpu_wakeup', 'kvm_emulate_insn', 'kvm_page_fault', 'kvm_exit'];
/** The ones that are exits (kvm_pvm emits no kvm_exit; kvm_emulate_insn counts emulated instructions). */
export const KVM_EXIT_EVENTS = ['kvm_pio', 'kvm_msr', 'kvm_cpuid', 'kvm_mmio', 'kvm_fast_mmio', 'kvm_hypercall', 'kvm_vcpu_wakeup'];
const PERF_SCRIPT = `set -e
[ -d /sys/kernel/tracing/events/kvm ] || mount -t tracefs tracefs /sys/kernel/tracing
exec perf stat -x, -D -1 --control "fifo:$1,$2" -e "$3" -p "$4"
`;

/** Start perf on `pid` (counters off); resolves to a session, or throws with perf's complaint. */
export async function startPerf(dir, pid) {
  const ctl = join(dir, `perf-ctl-${pid}`);
  const ack = join(dir, `perf-ack-${pid}`);
  rmSync(ctl, { force: true });
  rmSync(ack, { force: true });
  execFileSync('mkfifo', [ctl, ack]);
  const events = KVM_EVENTS.map((e) => `kvm:${e}`).join(',');
  const args = ['sh', '-c', PERF_SCRIPT, 'sh', ctl, ack, events, String(pid)];
  const child = existsSync('/sys/kernel/tracing/events/kvm')
    ? spawn(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn('unshare', ['-m', '--propagation', 'private', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  const exited = new Promise((resolve) => child.on('close', resolve));
  child.on('error', (e) => { err += `${e.message}\n`; });
  const ready = await Promise.race([
    new Promise((resolve) => child.stderr.on('data', (d) => { err += d; if (err.includes('Events disabled')) resolve(true); })),
    exited.then(() => false),
    new Promise((resolve) => setTimeout(() => resolve(false), 15_000)),
  ]);
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(err.trim().split('\n').filter((l) => !/libtraceevent|bad op token|expected type/.test(l)).pop() || 'perf did not start');
  }
  const ctlFd = openSync(ctl, 'w'); // perf holds both FIFOs open read-write: no blocking here
  const acks = [];
  let acked = 0;
  const ackStream = createReadStream(null, { fd: openSync(ack, 'r'), encoding: 'utf8' });
  ackStream.on('data', (d) => {
    acked += (d.match(/ack/g) ?? []).length;
    while (acks.length > 0 && acks[0].n <= acked) acks.shift().resolve(true);
  });
  ackStream.on('error', () => undefined);
  let sent = 0;
  let stopped = null;
  return {
    /** Send 'enable' or 'disable'; resolves once perf acknowledged it (false after 3 s). */
    command(cmd) {
      try { writeSync(ctlFd, `${cmd}\n`); } catch { return Promise.resolve(false); }
      const n = ++sent;
      return Promise.race([
        new Promise((resolve) => acks.push({ n, resolve })),
        new Promise((resolve) => setTimeout(() => resolve(false), 3000)),
      ]);
    },
    /** Stop perf (once); resolves to { event: count } (null where perf could not count). */
    stop() {
      stopped ??= (async () => {
        try { closeSync(ctlFd); } catch { /* closed */ }
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
        ackStream.destroy();
        rmSync(ctl, { force: true });
        rmSync(ack, { force: true });
        const counts = {};
        for (const line of err.split('\n')) {
          const f = line.split(',');
          if (f.length >= 3 && f[2].startsWith('kvm:')) counts[f[2].slice(4)] = /^\d+$/.test(f[0]) ? Number(f[0]) : null;
        }
        return counts;
      })();
      return stopped;
    },
  };
}

// ---- CPU time per process and thread (/proc) ----

const CLK_TCK = 100; // USER_HZ on Linux x86

/** utime + stime of every thread of `pid`, in ms. */
export function cpuTimes(pid) {
  const threads = {};
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ms = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // fields 14 and 15
        threads[tid] = ms;
        total += ms;
      } catch { /* thread gone */ }
    }
  } catch { /* process gone */ }
  return { total, threads };
}

/** CPU ms between two `cpuTimes` snapshots: all threads, and the busiest thread. */
export function cpuDelta(a, b) {
  let top = 0;
  for (const [tid, ms] of Object.entries(b.threads)) top = Math.max(top, ms - (a.threads[tid] ?? 0));
  return { total_ms: b.total - a.total, busiest_thread_ms: top };
}

/** `b − a` per key, dropping zeros. */
export function counterDiff(a, b) {
  if (!a || !b) return null;
  const out = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (b[k] ?? 0) - (a[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** `key=number` pairs of a console line. */
export const kvFields = (s) => Object.fromEntries([...s.matchAll(/(\w+)=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));

// ---- one guest run on the daemons, with counters over its measured window ----

/**
 * Create a guest through dom0's toolstack (the `create` request `pvkvm create -c` sends, console
 * streamed on that connection; `info`, `pause` and `unpause` on a second one) and take counters
 * over the window from the console line matching `startRe` to the one matching `endRe`: pvkvm's
 * live user-space exits by kind (`info`), CPU time of the hypervisor and dom0 processes (/proc),
 * and, when `perfState.available`, KVM's tracepoint counts (perf on the hypervisor). At the end
 * marker the domain is paused so that it cannot power off before `info` answers, then resumed.
 * Resolves to { text, window } where window is null (with `note`) if a snapshot failed.
 */
export async function guestWindow(ControlClient, { daemons, scratch, perfState, settings, startRe, endRe, timeoutMs = 120_000 }) {
  const name = settings.name;
  let perf = null;
  if (perfState.available) {
    try {
      perf = await startPerf(scratch, daemons.pids.hypervisor);
    } catch (err) {
      perfState.available = false;
      perfState.why = `perf stat on KVM tracepoints failed: ${err.message}`;
    }
  }
  const ctl = await ControlClient.connect(daemons.runDir);
  const con = await ControlClient.connect(daemons.runDir);
  const snapshot = async () => {
    const info = await ctl.request('info', { domain: name });
    return { atMs: epochMs(), exits: info.exits ?? {}, hv: cpuTimes(daemons.pids.hypervisor), dom0: cpuTimes(daemons.pids.dom0) };
  };
  let perfOn = false;
  try {
    let text = '';
    let start = null;
    let end = null;
    let note = null;
    const done = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no end within ${timeoutMs / 1000} s`)), timeoutMs);
      con.on('output', (bytes) => {
        text += bytes.toString('utf8');
        if (start === null && startRe.test(text)) {
          if (perf !== null) perf.command('enable').then((ok) => { perfOn = ok; });
          start = snapshot();
        }
        if (end === null && endRe.test(text)) {
          end = (async () => {
            try {
              await ctl.request('pause', { domain: name });
            } catch (err) {
              note = `pause failed: ${err.message}`;
              return null;
            }
            try {
              // Counters first: a guest that had already begun to power off can still be gone.
              const at = await snapshot();
              if (perf !== null && !(await perf.command('disable'))) perfOn = false;
              return at;
            } finally {
              await ctl.request('unpause', { domain: name }).catch(() => undefined);
            }
          })().catch((err) => { note = err.message; return null; });
        }
      });
      con.once('end', (e) => {
        clearTimeout(timer);
        if (e.kind !== 'shutdown') reject(new Error(`${name}: ${e.kind} (${e.detail})`));
        else resolve();
      });
      con.once('close', () => { clearTimeout(timer); reject(new Error(`${name}: dom0 closed the connection`)); });
    });
    done.catch(() => undefined);
    await con.request('create', { settings, console: true });
    await done;
    const a = start === null ? null : await start.catch(() => null);
    const b = end === null ? null : await end;
    const kernel = perf !== null ? await perf.stop() : null;
    perf = null;
    if (a === null || b === null) return { text, window: null, note: note ?? 'no counters at the start marker' };
    const hv = cpuDelta(a.hv, b.hv);
    const d0 = cpuDelta(a.dom0, b.dom0);
    return {
      text,
      window: {
        ms: b.atMs - a.atMs,
        userExits: counterDiff(a.exits, b.exits),
        kernel: kernel !== null && perfOn ? kernel : null,
        cpu: { hypervisor_ms: hv.total_ms, vcpu_thread_ms: hv.busiest_thread_ms, dom0_ms: d0.total_ms, dom0_busiest_thread_ms: d0.busiest_thread_ms },
      },
    };
  } finally {
    ctl.close();
    con.close();
    if (perf !== null) await perf.stop().catch(() => undefined);
  }
}
