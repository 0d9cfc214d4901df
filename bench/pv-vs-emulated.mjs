// pv-vs-emulated.mjs: the full-virtualization comparator (docs/performance.md §4, §7) — the same guest
// (test/guests/blkwork) reading the same image 64 KiB at a time through the PV disk (blkfront →
// blkback) and through pvkvm's emulated ATA PIO disk, in one run; with the host reading the same
// file, and the same guest under QEMU (IDE disk) as an extra reference. Throughput, IOPS, latency,
// exits per 4 KiB (pvkvm's live exit counters, KVM's tracepoints through perf) and CPU time.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epochMs, guestsDir, median, pvkvmJs, requireFile, round } from './lib.mjs';
import { networkSection } from './pve-net.mjs';
import { KVM_EVENTS, KVM_EXIT_EVENTS, breakdown, cpuDelta, cpuTimes, guestMode, guestWindow, kvFields, loadControlClient, startDaemons, startPerf } from './guest-window.mjs';

const MiB = 1024 * 1024;
/** Bytes read sequentially per run (the image is exactly this big), MiB. */
const SEQ_MIB = Number(process.env.PVKVM_BENCH_PVE_MIB ?? 8);
/** Requests in flight (the PV ring takes them all; the ATA disk takes one at a time). */
const QD = Number(process.env.PVKVM_BENCH_PVE_QD ?? 8);
/** Runs of each guest configuration (medians are reported). */
const RUNS = Number(process.env.PVKVM_BENCH_PVE_RUNS ?? 3);
/** Host-side repetitions (median). */
const HOST_RUNS = Number(process.env.PVKVM_BENCH_PVE_HOST_RUNS ?? 5);
const QEMU = process.env.PVKVM_QEMU ?? 'qemu-system-x86_64';
/** kvm (falls back to tcg when QEMU cannot use KVM), tcg, or none to leave QEMU out. */
const QEMU_ACCEL = process.env.PVKVM_QEMU_ACCEL ?? 'kvm';
const BS = 65536;
/** PVKVM_BENCH_PVE_NET=0 leaves the network section out; =only runs it without the disk section. */
const NET = process.env.PVKVM_BENCH_PVE_NET ?? '1';

const TARGETS = { seq_read_speedup: 20, exits_per_4k_pv: 0.25, exits_ratio_pv_vs_emulated: 1 / 40 };

/** The guest configurations, in the order each round runs them. */
const CONFIGS = {
  pv: { label: 'PV (blkfront, persistent grants, registered buffers)', disk: 'pv', extra: ' register=1' },
  ata: { label: 'emulated ATA PIO (polled)', disk: 'ata', extra: '' },
  pv_bounce: { label: 'PV, buffers not registered (bounced through the persistent pool)', disk: 'pv', extra: '' },
  pv_direct: { label: 'PV, blkfront.persistent=0', disk: 'pv', extra: ' blkfront.persistent=0' },
  ata_irq: { label: 'emulated ATA PIO (IRQ 14)', disk: 'ata', extra: ' ata.mode=irq' },
};

const START_RE = /^blkwork: disk .*\n/m;
const END_RE = /^blkwork bench .*\n/m;
const BENCH_LINE = /^blkwork bench (.*)$/m;
const PV_STATS = /^blkwork stats (.*)$/m;
const ATA_STATS = /^blkwork ata-stats (.*)$/m;

/** The numbers of one guest run: blkwork's bench line plus counters over its window, per 4 KiB. */
function guestNumbers(text, window, cmdline, what, tscMhz = 0) {
  const bench = BENCH_LINE.exec(text);
  if (bench === null || !/^Test result: SUCCESS$/m.test(text)) {
    throw new Error(`${what} (${cmdline}): ${text.trim().split('\n').slice(-4).join(' | ') || 'no output'}`);
  }
  const g = kvFields(bench[1]);
  const stats = PV_STATS.exec(text) ?? ATA_STATS.exec(text);
  const units = g.bytes / 4096;
  const per4k = (n) => (Number.isFinite(n) && units > 0 ? round(n / units, 4) : null);
  const r = {
    mb_s: g.read_mb_s, iops: g.iops, avg_lat_us: g.avg_lat_us, max_lat_us: g.max_lat_us,
    p50_lat_us: g.p50_lat_us ?? null, p99_lat_us: g.p99_lat_us ?? null, ops: g.ops, bytes: g.bytes,
    elapsed_us: g.elapsed_us, driver: stats ? kvFields(stats[1]) : null, guest_mode: guestMode(text),
  };
  if (window === null) return r;
  // Where one 64 KiB request's time goes (pvkvm only: QEMU has no per-thread names or exit counters).
  if (window.threads) {
    const d = r.driver ?? {};
    r.breakdown = breakdown(window, g.ops, '64 KiB read, sequential, QD 8', {
      bounce_bytes: d.bounce_bytes !== undefined ? round(d.bounce_bytes / g.ops, 1) : null,
      bounce_us: d.bounce_cycles !== undefined && tscMhz > 0 ? round(d.bounce_cycles / tscMhz / g.ops, 1) : null,
    });
  }
  r.window_ms = round(window.ms, 1);
  r.mb_s_wall = round(g.bytes / (window.ms / 1000) / 1e6, 3);
  if (window.userExits !== null && window.userExits !== undefined) {
    const total = Object.values(window.userExits).reduce((x, y) => x + y, 0);
    r.user_exits = total;
    r.user_exits_by_kind = window.userExits;
    r.exits_per_4k = per4k(total);
    r.exits_per_4k_by_kind = Object.fromEntries(Object.entries(window.userExits).map(([k, v]) => [k, per4k(v)]));
  }
  if (window.kernel) {
    r.kernel_events = window.kernel;
    r.kernel_exits_per_4k = per4k(KVM_EXIT_EVENTS.reduce((x, e) => x + (window.kernel[e] ?? 0), 0));
    r.kernel_userspace_exits_per_4k = per4k(window.kernel.kvm_userspace_exit);
    r.emulated_insns_per_4k = per4k(window.kernel.kvm_emulate_insn);
  }
  // CPU over the window: pvkvm's hypervisor and dom0 processes together, or QEMU's process.
  const cpuMs = window.cpuTotalMs;
  r.cpu = { ...Object.fromEntries(Object.entries(window.cpu).map(([k, v]) => [k, round(v, 1)])), total_ms: round(cpuMs, 1),
    busy: round(cpuMs / window.ms, 3), ms_per_mib: round(cpuMs / (g.bytes / MiB), 2) };
  return r;
}

/** One blkwork run on pvkvm's daemons. */
async function pvkvmRun(ControlClient, env, key, round_) {
  const cfg = CONFIGS[key];
  const cmdline = `mode=bench size=${SEQ_MIB}M bs=${BS} qd=${QD}${cfg.extra}`;
  const disk = { target: env.image, vdev: cfg.disk === 'pv' ? 'xvda' : 'hda', access: 'ro' };
  const settings = {
    name: `pve-${key.replace('_', '-')}-${round_}`, kernel: env.guest, cmdline, memoryMiB: 64, vcpus: 1, modules: [],
    onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy',
    ...(cfg.disk === 'pv' ? { disks: [disk] } : { emulatedDisks: [disk] }),
  };
  // The guest powers off right after its bench line; when it wins the race against `pause` the
  // window has no counters, and the run is repeated (at most twice more).
  let text, window, note;
  for (let attempt = 0; attempt < 3; attempt++) {
    ({ text, window, note } = await guestWindow(ControlClient, {
      daemons: env.daemons, scratch: env.scratch, perfState: env.perf, settings: { ...settings, name: `${settings.name}${attempt ? `-${attempt}` : ''}` },
      startRe: START_RE, endRe: END_RE, profile: true,
    }));
    if (window !== null || !BENCH_LINE.test(text)) break;
  }
  if (window !== null) window.cpuTotalMs = window.cpu.hypervisor_ms + window.cpu.dom0_ms;
  const r = guestNumbers(text, window, cmdline, settings.name, env.tscMhz);
  if (window === null) r.counters_note = note;
  return { ...r, cmdline };
}

// ---- QEMU: the same guest with an IDE disk (test/qemu.test.ts's command line) ----

function qemuArgs(image, cmdline, accel) {
  return [
    '-machine', 'pc', '-accel', accel, '-m', '64', '-display', 'none', '-monitor', 'none',
    '-no-reboot', '-nodefaults',
    '-kernel', join(guestsDir, 'blkwork.elf'), '-append', cmdline,
    '-device', 'isa-debug-exit,iobase=0x501,iosize=4',
    // IDE cannot be read-only; snapshot=on keeps any write off the image (reads come from it).
    '-drive', `file=${image},format=raw,if=ide,index=0,snapshot=on`,
    '-serial', 'none', '-debugcon', 'stdio',
  ];
}

/**
 * One QEMU run with counters over the same window: at the start marker perf is switched on; at
 * the end marker QEMU is stopped (SIGSTOP, our own child), perf switched off, its CPU time read,
 * and it is continued. Resolves to { text, window, code, stderr }.
 */
async function qemuOnce(image, cmdline, accel, scratch, perfState) {
  const child = spawn(QEMU, qemuArgs(image, cmdline, accel), { stdio: ['ignore', 'pipe', 'pipe'] });
  let perf = null;
  let perfOn = false;
  const perfStarting = perfState.available && accel === 'kvm'
    ? startPerf(scratch, child.pid).then((p) => { perf = p; }, (err) => { perfState.available = false; perfState.why = `perf on QEMU: ${err.message}`; })
    : Promise.resolve();
  let text = '';
  let stderr = '';
  let start = null;
  let end = null;
  const snap = () => ({ atMs: epochMs(), cpu: cpuTimes(child.pid) });
  child.stdout.on('data', (d) => {
    text += d.toString('latin1').replace(/\r/g, '');
    if (start === null && START_RE.test(text)) {
      start = snap();
      if (perf !== null) perf.command('enable').then((ok) => { perfOn = ok; });
    }
    if (end === null && END_RE.test(text)) {
      end = (async () => {
        try { process.kill(child.pid, 'SIGSTOP'); } catch { /* gone */ }
        try {
          const at = snap();
          if (perf !== null && !(await perf.command('disable'))) perfOn = false;
          return at;
        } finally {
          try { process.kill(child.pid, 'SIGCONT'); } catch { /* gone */ }
        }
      })();
    }
  });
  child.stderr.on('data', (d) => { stderr += d.toString(); });
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  clearTimeout(killer);
  await perfStarting;
  const b = end === null ? null : await end;
  const kernel = perf !== null ? await perf.stop() : null;
  if (start === null || b === null) return { text, window: null, code, stderr };
  const cpu = cpuDelta(start.cpu, b.cpu);
  return {
    text, code, stderr,
    window: {
      ms: b.atMs - start.atMs, userExits: null, kernel: kernel !== null && perfOn ? kernel : null,
      cpu: { qemu_ms: cpu.total_ms, vcpu_thread_ms: cpu.busiest_thread_ms }, cpuTotalMs: cpu.total_ms,
    },
  };
}

/** QEMU runs with KVM, falling back to TCG (once, for all runs) when QEMU cannot use KVM here. */
async function qemuRun(env, qemu) {
  const cmdline = `mode=bench size=${SEQ_MIB}M bs=${BS} qd=${QD}`;
  let r = await qemuOnce(env.image, cmdline, qemu.accel, env.scratch, env.perf);
  if (qemu.accel === 'kvm' && !START_RE.test(r.text)) {
    qemu.fallback = `QEMU could not use KVM (${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}); TCG instead`;
    qemu.accel = 'tcg';
    r = await qemuOnce(env.image, cmdline, qemu.accel, env.scratch, env.perf);
  }
  const g = guestNumbers(r.text, r.window, cmdline, `qemu (${qemu.accel})`);
  // QEMU's user-space exits are its KVM_RUN returns: kvm_userspace_exit (none under TCG).
  if (g.kernel_events) g.exits_per_4k = g.kernel_userspace_exits_per_4k;
  return { ...g, cmdline, accel: qemu.accel };
}

// ---- the host: the same 64 KiB preads on the same file ----

function hostSeq(image, bytes) {
  const fd = openSync(image, 'r');
  try {
    const buf = Buffer.alloc(BS);
    const lat = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let off = 0; off < bytes; off += BS) {
      const s0 = performance.now();
      if (readSync(fd, buf, 0, BS, off) !== BS) throw new Error(`host pread at ${off}: short read`);
      lat.push((performance.now() - s0) * 1000);
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    lat.sort((a, b) => a - b);
    const pct = (p) => lat[Math.min(lat.length - 1, Math.floor((lat.length * p) / 100))];
    return {
      mb_s: bytes / (ms / 1000) / 1e6, iops: (bytes / BS) / (ms / 1000), avg_lat_us: (ms * 1000) / (bytes / BS),
      p50_lat_us: pct(50), p99_lat_us: pct(99), cpu_ms: cpuMs, ms,
    };
  } finally {
    closeSync(fd);
  }
}

// ---- the benchmark ----

/** Medians over runs of every numeric field (nested one level: cpu, *_by_kind, driver). */
function medians(runs) {
  const out = {};
  const keys = new Set(runs.flatMap((r) => Object.keys(r)));
  for (const k of keys) {
    const vals = runs.map((r) => r[k]);
    if (vals.every((v) => typeof v === 'number' || v === undefined || v === null)) {
      const m = median(vals.filter((v) => typeof v === 'number'));
      out[k] = Number.isFinite(m) ? round(m, 4) : null;
    } else if (vals.every((v) => v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v)))) {
      const objs = vals.filter((v) => v);
      out[k] = objs.length > 0 ? medians(objs) : null;
    } else {
      out[k] = vals.find((v) => v !== undefined);
    }
  }
  return out;
}

function qemuAvailability() {
  if (QEMU_ACCEL === 'none') return 'left out (PVKVM_QEMU_ACCEL=none)';
  const v = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  return v.status === 0 ? null : `${QEMU} is not installed (Debian: qemu-system-x86)`;
}

/** The network figures in a line (first in the summary: they are this benchmark's newer half). */
function netSummary(n) {
  const c = n.network?.configs;
  if (!c) return '';
  const f = (x) => (x === null || x === undefined ? 'n/a' : x);
  return `net_bulk_speedup ${f(n.net_bulk_speedup)} (PV ${f(c.pv?.bulk_mbps)} ÷ NE2000 ${f(c.ne2k?.bulk_mbps)} Mb/s; target ≥ 3), ` +
    `net_small_speedup ${f(n.net_small_speedup)} (PV ${f(c.pv?.small_pps)} ÷ NE2000 ${f(c.ne2k?.small_pps)} pps; target ≥ 5), ` +
    `exits/packet PV ${f(n.net_exits_per_packet_pv)}, NE2000 ${f(n.net_exits_per_packet_emulated)}` +
    (c.qemu ? `, QEMU NE2000 ${f(c.qemu.bulk_mbps)} Mb/s, ${f(c.qemu.small_pps)} pps` : '') +
    (c.host ? `; veth ${f(c.host.bulk_mbps)} Mb/s, ${f(c.host.small_pps)} pps` : '') + '; ';
}

/** The breakdown of a configuration in a few words for the summary line (µs per 64 KiB request). */
function summarize(what, b) {
  if (!b) return `${what} n/a`;
  const v = b.vcpu_thread ?? {};
  const f = (x) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Math.round(x));
  const pr = v.profile;
  const emu = pr ? pr.guest_emulation_us + pr.guest_decode_us : null;
  const dom0 = Object.values(b.dom0_threads ?? {}).reduce((x, t) => x + (t.cpu_us ?? 0), 0);
  return `${what} ${f(b.wall_us)} µs = vCPU ${f(v.cpu_us)} (emulator ${f(emu)}, user ${f(v.user_us)}, bounce copy ${f(b.bounce_us)}) ` +
    `+ waiting ${f(b.waiting_us)}; dom0 ${f(dom0)}`;
}

export async function run({ log, machine }) {
  const guest = requireFile(join(guestsDir, 'blkwork.elf'), 'run `node build.mjs` first');
  requireFile(pvkvmJs, 'run `node build.mjs` first');
  if (!(SEQ_MIB >= 1 && SEQ_MIB <= 64) || !(QD >= 1 && QD <= 64) || !(RUNS >= 1) || !(HOST_RUNS >= 1)) {
    throw new Error('PVKVM_BENCH_PVE_MIB must be 1..64, PVKVM_BENCH_PVE_QD 1..64, runs ≥ 1');
  }
  const bytes = SEQ_MIB * MiB;
  const ControlClient = await loadControlClient();
  const scratch = mkdtempSync(join(tmpdir(), 'pvkvm-bench-pve-'));
  const image = join(scratch, 'disk.img');
  let daemons = null;
  try {
    // A fully written image in blkwork's host pattern, read once: every side reads from the page cache.
    const fd = openSync(image, 'w');
    const chunk = Buffer.alloc(MiB);
    for (let m = 0; m < SEQ_MIB; m++) {
      for (let i = 0; i < MiB; i++) { const o = m * MiB + i; chunk[i] = (o * 7 + Math.floor(o / 512)) & 0xff; }
      writeSync(fd, chunk, 0, MiB, m * MiB);
    }
    closeSync(fd);
    hostSeq(image, bytes);

    daemons = await startDaemons('pvkvm-bench-pve-run-');
    const perf = { available: true, why: null };
    const env = { daemons, guest, image, scratch, perf, tscMhz: machine?.cpu_mhz ?? 0 };
    const qemuMissing = qemuAvailability();
    const qemu = { accel: QEMU_ACCEL === 'tcg' ? 'tcg' : 'kvm', fallback: null };

    // Untimed: a short run on each disk warms the daemons' code paths and the image.
    for (const [k, cfgDisk] of [['pv', 'disks'], ['ata', 'emulatedDisks']]) {
      const d = { target: image, vdev: k === 'pv' ? 'xvda' : 'hda', access: 'ro' };
      await guestWindow(ControlClient, {
        daemons, scratch, perfState: { available: false }, startRe: START_RE, endRe: END_RE,
        settings: { name: `pve-warm-${k}`, kernel: guest, cmdline: `mode=bench size=1M bs=${BS} qd=${QD}`, memoryMiB: 64, vcpus: 1,
          modules: [], onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy', [cfgDisk]: [d] },
      });
    }

    const runs = Object.fromEntries([...Object.keys(CONFIGS), 'qemu'].map((k) => [k, []]));
    const show = (k, r) => log(`${k}: ${r.mb_s} MB/s, ${r.iops} IOPS, avg ${r.avg_lat_us} µs; exits/4 KiB ${r.exits_per_4k ?? 'n/a'} ` +
      `(kernel-traced ${r.kernel_exits_per_4k ?? 'n/a'}), CPU ${r.cpu?.ms_per_mib ?? 'n/a'} ms/MiB`);
    for (let i = 0; i < RUNS; i++) {
      // Alternate the order so that drift on the host affects every configuration alike.
      const order = i % 2 === 0 ? Object.keys(CONFIGS) : Object.keys(CONFIGS).reverse();
      for (const k of order) {
        const r = await pvkvmRun(ControlClient, env, k, i);
        runs[k].push(r);
        show(`run ${i + 1}/${RUNS} ${k}`, r);
      }
      if (qemuMissing === null) {
        const r = await qemuRun(env, qemu);
        runs.qemu.push(r);
        show(`run ${i + 1}/${RUNS} qemu-${r.accel}`, r);
      }
    }
    const hostRuns = Array.from({ length: HOST_RUNS }, () => hostSeq(image, bytes));
    // The network: the same `network` guest over the PV NIC, the NE2000 model, QEMU's NE2000, and veth.
    const net = NET === '0' ? { network: { skipped: 'PVKVM_BENCH_PVE_NET=0' } }
      : await networkSection(ControlClient, { daemons, scratch, perf, qemu: { bin: QEMU, accel: qemu.accel, missing: qemuMissing } }, log);

    const cfg = Object.fromEntries(Object.entries(runs).filter(([, v]) => v.length > 0).map(([k, v]) => {
      const m = medians(v);
      delete m.cmdline;
      return [k, {
        label: k === 'qemu' ? `QEMU ${v[0].accel.toUpperCase()}, IDE disk (ATA PIO)` : CONFIGS[k].label,
        cmdline: v[0].cmdline, ...m, runs: v.length,
        per_run: { mb_s: v.map((r) => r.mb_s), exits_per_4k: v.map((r) => r.exits_per_4k ?? null) },
      }];
    }));
    const hostMb = median(hostRuns.map((h) => h.mb_s));
    cfg.host = {
      label: 'host: 64 KiB preads of the same file (Node fs.readSync)',
      mb_s: round(hostMb, 1), iops: Math.round(median(hostRuns.map((h) => h.iops))),
      avg_lat_us: round(median(hostRuns.map((h) => h.avg_lat_us)), 2), exits_per_4k: 0,
      p50_lat_us: round(median(hostRuns.map((h) => h.p50_lat_us)), 2), p99_lat_us: round(median(hostRuns.map((h) => h.p99_lat_us)), 2),
      cpu: { ms_per_mib: round(median(hostRuns.map((h) => h.cpu_ms / SEQ_MIB)), 3) },
      runs: HOST_RUNS, per_run: { mb_s: hostRuns.map((h) => round(h.mb_s, 1)) },
    };

    const pv = cfg.pv;
    const ata = cfg.ata;
    /** a ÷ b to 4 significant digits (some ratios here are ~10⁻⁴). */
    const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? Number((a / b).toPrecision(4)) : null);
    const speedup = ratio(pv.mb_s, ata.mb_s);
    const exitsRatio = ratio(pv.exits_per_4k, ata.exits_per_4k);
    const kernelBy = Object.fromEntries(Object.entries(cfg).map(([k, c]) => [k, c.kernel_exits_per_4k ?? (k === 'host' ? 0 : null)]));
    const fmt = (x, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Number(x).toFixed(d));
    const q = cfg.qemu;
    const modes = [...new Set(Object.values(runs).flat().map((r) => r.guest_mode).filter((m) => m))];
    const bd = Object.fromEntries(Object.entries(cfg).filter(([k]) => k !== 'host' && k !== 'qemu').map(([k, c]) => [k, c.breakdown ?? null]));
    return {
      guest_mode: modes.length === 1 ? modes[0] : modes.join(','),
      breakdown: bd,
      seq_read_speedup: speedup,
      seq_read_speedup_bounce: ratio(cfg.pv_bounce.mb_s, ata.mb_s),
      seq_read_speedup_direct: ratio(cfg.pv_direct.mb_s, ata.mb_s),
      seq_read_speedup_vs_ata_irq: ratio(pv.mb_s, cfg.ata_irq.mb_s),
      seq_read_pv_vs_qemu: q ? ratio(pv.mb_s, q.mb_s) : null,
      seq_read_pv_vs_host: ratio(pv.mb_s, hostMb),
      seq_read_ata_vs_host: ratio(ata.mb_s, hostMb),
      exits_per_4k_pv: pv.exits_per_4k ?? null,
      exits_per_4k_pv_by_kind: pv.exits_per_4k_by_kind ?? null,
      exits_per_4k_emulated: ata.exits_per_4k ?? null,
      exits_per_4k_emulated_by_kind: ata.exits_per_4k_by_kind ?? null,
      exits_per_4k_qemu: q?.exits_per_4k ?? null,
      exits_ratio_pv_vs_emulated: exitsRatio,
      kernel_exits_per_4k: kernelBy,
      emulated_insns_per_4k: Object.fromEntries(Object.entries(cfg).filter(([k]) => k !== 'host').map(([k, c]) => [k, c.emulated_insns_per_4k ?? null])),
      cpu_ms_per_mib: Object.fromEntries(Object.entries(cfg).map(([k, c]) => [k, c.cpu?.ms_per_mib ?? null])),
      mb_s: Object.fromEntries(Object.entries(cfg).map(([k, c]) => [k, c.mb_s])),
      // Per 64 KiB request: the guest's own clock (blkwork), the host's around each pread.
      latency_us: Object.fromEntries(Object.entries(cfg).map(([k, c]) => [k, { p50: c.p50_lat_us ?? null, p99: c.p99_lat_us ?? null, avg: c.avg_lat_us ?? null }])),
      qemu: { available: qemuMissing === null, why: qemuMissing, accel: q?.accel ?? null, fallback: qemu.fallback, command: q ? `${QEMU} ${qemuArgs('IMAGE', q.cmdline, q.accel).join(' ')}` : null },
      kernel_counters: perf.available ? `perf stat -p PID on kvm:{${KVM_EVENTS.join(',')}}` : `unavailable: ${perf.why}`,
      targets: TARGETS,
      configs: cfg,
      seq_mib: SEQ_MIB, bs: BS, qd: QD, runs: RUNS,
      ...net,
      summary: netSummary(net) + `seq_read_speedup ${fmt(speedup, 3)} (PV ${pv.mb_s} ÷ ATA PIO ${ata.mb_s} MB/s; target ≥ 20); ` +
        `exits per 4 KiB: PV ${fmt(pv.exits_per_4k, 4)} (target ≤ 0.25), ATA ${fmt(ata.exits_per_4k, 2)}` +
        (q ? `, QEMU-${q.accel} ${fmt(q.exits_per_4k, 2)}` : '') + `; kernel-traced PV ${fmt(pv.kernel_exits_per_4k, 3)}, ATA ${fmt(ata.kernel_exits_per_4k, 2)}; ` +
        `emulated insns/4 KiB PV ${fmt(pv.emulated_insns_per_4k, 0)}, ATA ${fmt(ata.emulated_insns_per_4k, 0)}` +
        (q ? `; QEMU ${q.mb_s} MB/s` : `; QEMU: ${qemuMissing}`) + `; host ${fmt(hostMb, 0)} MB/s; ` +
        `breakdown per 64 KiB: ${summarize('PV', bd.pv)}; ${summarize('ATA', bd.ata)}; guest ${modes.join(',') || 'n/a'}`,
    };
  } finally {
    if (daemons !== null) await daemons.down();
    rmSync(scratch, { recursive: true, force: true });
  }
}
