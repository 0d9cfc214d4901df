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
ctl="$1"; ack="$2"; what="$3"; shift 3
exec perf "$what" -D -1 --control "fifo:$ctl,$ack" "$@"
`;

/**
 * Start `perf ARGS --control fifo:… -D -1` (events off until 'enable') in `dir`; resolves to a
 * session once perf says its events are disabled, or throws with perf's complaint.
 */
async function startControlledPerf(dir, tag, perfArgs) {
  const ctl = join(dir, `perf-ctl-${tag}`);
  const ack = join(dir, `perf-ack-${tag}`);
  rmSync(ctl, { force: true });
  rmSync(ack, { force: true });
  execFileSync('mkfifo', [ctl, ack]);
  const args = ['sh', '-c', PERF_SCRIPT, 'sh', ctl, ack, ...perfArgs];
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
    /** Stop perf (once); resolves to what it wrote on stderr. */
    stop() {
      stopped ??= (async () => {
        try { closeSync(ctlFd); } catch { /* closed */ }
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
        ackStream.destroy();
        rmSync(ctl, { force: true });
        rmSync(ack, { force: true });
        return err;
      })();
      return stopped;
    },
  };
}

/** Start perf stat on `pid`'s KVM tracepoints (counters off); `stop()` resolves to { event: count }. */
export async function startPerf(dir, pid) {
  const events = KVM_EVENTS.map((e) => `kvm:${e}`).join(',');
  const s = await startControlledPerf(dir, `stat-${pid}`, ['stat', '-x,', '-e', events, '-p', String(pid)]);
  return {
    command: s.command,
    async stop() {
      const err = await s.stop();
      const counts = {};
      for (const line of err.split('\n')) {
        const f = line.split(',');
        if (f.length >= 3 && f[2].startsWith('kvm:')) counts[f[2].slice(4)] = /^\d+$/.test(f[0]) ? Number(f[0]) : null;
      }
      return counts;
    },
  };
}

// ---- where a thread's CPU time goes: cpu-clock samples with kernel call chains ----

/** Sampling rate of the profile (Hz per running thread): a few % overhead, ~200 samples per busy second; 0 = no profiles. */
const PROFILE_HZ = Number(process.env.PVKVM_BENCH_PROFILE_HZ ?? 199);

/**
 * What a sample of a daemon thread was doing, from its call chain (leaf first):
 * - `guest_emulation`: KVM's instruction emulator running guest code (x86_emulate_instruction);
 *   of which `guest_decode` is decoding (once per instruction the kvm_emulate_insn tracepoint
 *   counts; a `rep` string instruction is decoded once per 1024 iterations, executed per iteration);
 * - `kvm_run_other`: the rest of KVM_RUN (entry and exit, vcpu_load, in-kernel exits, halts);
 * - `kernel_other`: other system calls (epoll, eventfd, futex, the VM-level ioctls, preadv…);
 * - `user`: user space (JavaScript, koffi, Node).
 */
export const PROFILE_CATEGORIES = ['guest_emulation', 'guest_decode', 'kvm_run_other', 'kernel_other', 'user'];

function classify(frames) {
  const k = frames.length > 0 && /^ffff/.test(frames[0].ip);
  if (!k) return 'user';
  let emu = false;
  for (const f of frames) {
    if (f.sym.startsWith('x86_decode_emulated_instruction') || f.sym.startsWith('x86_decode_insn')) return 'guest_decode';
    if (f.sym.startsWith('x86_emulate_instruction')) emu = true;
  }
  if (emu) return 'guest_emulation';
  return frames.some((f) => f.sym.startsWith('kvm_arch_vcpu_ioctl_run')) ? 'kvm_run_other' : 'kernel_other';
}

/**
 * Profile `pid` (every thread it has now) with cpu-clock samples and call chains, off until
 * `command('enable')`. `stop()` resolves to { hz, samples, threads: { TID: { name, samples,
 * CATEGORY: fraction } } }; names come from /proc when the profile stops.
 */
export async function startProfile(dir, pid) {
  const out = join(dir, `perf-profile-${pid}.data`);
  rmSync(out, { force: true });
  const s = await startControlledPerf(dir, `rec-${pid}`, ['record', '-e', 'cpu-clock', '-F', String(PROFILE_HZ), '-g', '-p', String(pid), '-o', out]);
  // Names while the profiled threads exist (at enable and at disable: a vCPU thread is gone once
  // its domain is).
  let seen = threadNames(pid);
  return {
    command(cmd) {
      seen = { ...seen, ...threadNames(pid) };
      return s.command(cmd);
    },
    async stop() {
      const names = { ...seen, ...threadNames(pid) };
      await s.stop();
      try {
        const text = execFileSync('perf', ['script', '-i', out, '-F', 'tid,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
        const threads = {};
        let total = 0;
        for (const block of text.split(/\n\s*\n/)) {
          const lines = block.split('\n').filter((l) => l.trim() !== '');
          if (lines.length === 0) continue;
          const tid = lines[0].trim().split(/\s+/)[0];
          const frames = lines.slice(1).map((l) => {
            const m = /^\s*([0-9a-f]+)\s+(\S+)/.exec(l);
            return m ? { ip: m[1].padStart(16, '0'), sym: m[2] } : { ip: '0', sym: '' };
          });
          const t = (threads[tid] ??= { name: names[tid] ?? 'gone', samples: 0, ...Object.fromEntries(PROFILE_CATEGORIES.map((c) => [c, 0])) });
          t[classify(frames)]++;
          t.samples++;
          total++;
        }
        for (const t of Object.values(threads)) for (const c of PROFILE_CATEGORIES) t[c] = Number((t[c] / t.samples).toFixed(4));
        return { hz: PROFILE_HZ, samples: total, threads };
      } finally {
        rmSync(out, { force: true });
        rmSync(`${out}.old`, { force: true });
      }
    },
  };
}

// ---- CPU time per process and thread (/proc) ----

const CLK_TCK = 100; // USER_HZ on Linux x86

/**
 * A thread's name for grouping: pvkvm names its long-lived threads (vcpu-dDvV, hv-timer-relay,
 * dom0-events, blkback-dD…); the main thread (tid = pid) is `main`; Node's own helpers
 * (V8 platform workers, libuv's pool, all named `node`) are `node-helpers`.
 */
function threadName(pid, tid, comm) {
  if (String(tid) === String(pid)) return 'main';
  return comm === 'node' ? 'node-helpers' : comm;
}

/** tid → name of every thread of `pid` now. */
export function threadNames(pid) {
  const out = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try { out[tid] = threadName(pid, tid, readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()); } catch { /* gone */ }
    }
  } catch { /* process gone */ }
  return out;
}

/** utime and stime of every thread of `pid`, in ms, with each thread's name. */
export function cpuTimes(pid) {
  const threads = {};
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const user = (Number(f[11]) * 1000) / CLK_TCK; // field 14
        const sys = (Number(f[12]) * 1000) / CLK_TCK; // field 15
        threads[tid] = { name: threadName(pid, tid, comm), user_ms: user, sys_ms: sys, ms: user + sys };
        total += user + sys;
      } catch { /* thread gone */ }
    }
  } catch { /* process gone */ }
  return { total, threads };
}

/** CPU ms between two `cpuTimes` snapshots: all threads, and the busiest thread. */
export function cpuDelta(a, b) {
  let top = 0;
  for (const [tid, t] of Object.entries(b.threads)) top = Math.max(top, t.ms - (a.threads[tid]?.ms ?? 0));
  return { total_ms: b.total - a.total, busiest_thread_ms: top };
}

/**
 * CPU ms per thread between two snapshots, grouped by thread name (threads that ran < 1 tick are
 * left out): { NAME: { ms, user_ms, sys_ms, threads, tids } }.
 */
export function threadCpu(a, b) {
  const out = {};
  for (const [tid, t] of Object.entries(b.threads)) {
    const p = a.threads[tid] ?? { user_ms: 0, sys_ms: 0, ms: 0 };
    const ms = t.ms - p.ms;
    if (ms <= 0) continue;
    const g = (out[t.name] ??= { ms: 0, user_ms: 0, sys_ms: 0, threads: 0, tids: [] });
    g.ms += ms;
    g.user_ms += t.user_ms - p.user_ms;
    g.sys_ms += t.sys_ms - p.sys_ms;
    g.threads++;
    g.tids.push(tid);
  }
  return out;
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
 * live user-space exits by kind (`info`), CPU time of the hypervisor and dom0 processes and of
 * each of their threads by name (/proc), and, when `perfState.available`, KVM's tracepoint counts
 * (perf on the hypervisor). With `profile`, the hypervisor's threads are also sampled (cpu-clock,
 * call chains) over the window, to say where each thread's CPU time goes. At the end
 * marker the domain is paused so that it cannot power off before `info` answers, then resumed.
 * Resolves to { text, window } where window is null (with `note`) if a snapshot failed.
 */
export async function guestWindow(ControlClient, { daemons, scratch, perfState, settings, startRe, endRe, timeoutMs = 120_000, profile: wantProfile = false }) {
  const name = settings.name;
  const profile = wantProfile && PROFILE_HZ > 0;
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
  let prof = null;
  let profNote = null;
  let profOn = false;
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
          if (prof !== null) prof = prof.then(async (p) => { if (p !== null && end === null) profOn = await p.command('enable'); return p; });
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
              const p = prof !== null ? await prof : null;
              if (p !== null) await p.command('disable');
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
    // Started before the domain exists: threads created later (its vCPUs) inherit the sampling.
    if (profile) prof = startProfile(scratch, daemons.pids.hypervisor).catch((err) => { profNote = `profile: ${err.message}`; return null; });
    if (prof !== null) await prof;
    await con.request('create', { settings, console: true });
    await done;
    const a = start === null ? null : await start.catch(() => null);
    const b = end === null ? null : await end;
    const kernel = perf !== null ? await perf.stop() : null;
    perf = null;
    const p = prof !== null ? await prof : null;
    prof = null;
    let profileResult = null;
    if (p !== null && !profOn) profNote ??= 'profile: perf record did not enable in time';
    if (p !== null) {
      const r = await p.stop().catch((err) => { profNote = `profile: ${err.message}`; return null; });
      if (r !== null && profOn) profileResult = r;
      else profNote ??= 'profile: perf record did not enable in time';
    }
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
        threads: { hypervisor: threadCpu(a.hv, b.hv), dom0: threadCpu(a.dom0, b.dom0) },
        profile: profileResult,
        profile_note: profile ? profNote : undefined,
      },
    };
  } finally {
    ctl.close();
    con.close();
    if (perf !== null) await perf.stop().catch(() => undefined);
    if (prof !== null) await (await prof)?.stop().catch(() => undefined);
  }
}

// ---- where the time goes: one breakdown per unit of work ----

const ms2us = (ms, n) => (n > 0 && Number.isFinite(ms) ? Number(((ms * 1000) / n).toFixed(1)) : null);

/**
 * Where the window's time went, per unit of work (`units`: requests, or 4 KiB blocks): wall time;
 * CPU of every hypervisor and dom0 thread by name (user / system); for the vCPU thread, the
 * profile's split (guest code in KVM's emulator, of which instruction decode; the rest of
 * KVM_RUN; other system calls; pvkvm's user space); exits by kind (pvkvm's user-space counters,
 * and the in-kernel ones from KVM's tracepoints: kvm_pio minus the port exits that reached user
 * space is the ioeventfd kicks); emulated instructions as KVM decoded them; and waiting: the
 * part of the wall time the vCPU thread was not on a CPU (blocked in SCHEDOP_poll or halted, or
 * preempted by another thread on this 2-CPU host).
 */
export function breakdown(window, units, unitName, extra = {}) {
  if (window === null || !(units > 0)) return null;
  const per = (ms) => ms2us(ms, units);
  const hvThreads = window.threads?.hypervisor ?? {};
  const d0Threads = window.threads?.dom0 ?? {};
  const vcpuName = Object.keys(hvThreads).filter((n) => n.startsWith('vcpu-')).sort((x, y) => hvThreads[y].ms - hvThreads[x].ms)[0] ?? null;
  const vcpu = vcpuName !== null ? hvThreads[vcpuName] : null;
  // Per-domain names lose their domain (blkback-d7 → blkback, vcpu-d7v0 → vcpu-v0), so that runs
  // on different domains line up (medians over runs).
  const generic = (n) => n.replace(/^(.*)-d\d+(?:v(\d+))?$/, (_, base, v) => (v !== undefined ? `${base}-v${v}` : base));
  const threadsOut = (group) => {
    const out = {};
    for (const [n, t] of Object.entries(group).sort((x, y) => y[1].ms - x[1].ms)) {
      const o = (out[generic(n)] ??= { cpu_us: 0, user_us: 0, sys_us: 0 });
      o.cpu_us += per(t.ms);
      o.user_us += per(t.user_ms);
      o.sys_us += per(t.sys_ms);
    }
    return out;
  };
  const k = window.kernel;
  const userExits = window.userExits ?? {};
  const userTotal = Object.values(userExits).reduce((x, y) => x + y, 0);
  const perN = (n) => (Number.isFinite(n) ? Number((n / units).toFixed(4)) : null);
  // Port exits that reached user space: hypercalls (port 0xE8) and emulated-device I/O.
  const userPorts = (userExits.hypercall ?? 0) + (userExits.io ?? 0);
  let vcpuSplit = null;
  if (vcpu !== null && window.profile) {
    const tids = new Set(vcpu.tids);
    const pt = Object.entries(window.profile.threads).filter(([tid]) => tids.has(tid)).map(([, t]) => t).sort((x, y) => y.samples - x.samples)[0];
    if (pt) {
      vcpuSplit = { samples: pt.samples };
      for (const c of PROFILE_CATEGORIES) vcpuSplit[`${c}_us`] = per(vcpu.ms * pt[c]);
    }
  }
  return {
    unit: unitName,
    units,
    wall_us: per(window.ms),
    vcpu_thread: vcpu !== null ? { name: generic(vcpuName), cpu_us: per(vcpu.ms), user_us: per(vcpu.user_ms), sys_us: per(vcpu.sys_ms), profile: vcpuSplit } : null,
    waiting_us: vcpu !== null ? per(Math.max(0, window.ms - vcpu.ms)) : null,
    emulated_insns: k ? perN(k.kvm_emulate_insn) : null,
    exits: {
      user_space: perN(userTotal),
      user_space_by_kind: Object.fromEntries(Object.entries(userExits).map(([n, v]) => [n, perN(v)])),
      in_kernel_port: k ? perN(Math.max(0, (k.kvm_pio ?? 0) - userPorts)) : null,
      kvm_userspace_exit: k ? perN(k.kvm_userspace_exit) : null,
      halts: k ? perN(k.kvm_vcpu_wakeup) : null,
    },
    hypervisor_threads: threadsOut(hvThreads),
    dom0_threads: threadsOut(d0Threads),
    ...extra,
    ...(window.profile_note ? { profile_note: window.profile_note } : {}),
  };
}

/**
 * How the guest's code ran, as the guest says: `cplN` from a console line that names it (blkwork
 * prints `blkwork: cpl=3` in the SDK's default mode, `cpl=0` in its all-CPL-0 mode), else
 * `unknown`.
 */
export function guestMode(text) {
  const m = /\bcpl\s*[=:]?\s*([0-3])\b/i.exec(text);
  // A guest that does not say is reported as such, not guessed.
  return m ? `cpl${m[1]}` : 'unknown';
}
