// block.mjs: the PV block path — a guest (test/guests/blkwork) reading and writing an image file
// through blkfront → blkback, against the host doing the same preads/pwrites on the same file
// from Node; plus exits per block request (pvkvm's user-space counters, and KVM's own counts from
// its tracepoints through perf when they can be taken) and where the CPU time goes in each phase.
import { closeSync, mkdtempSync, openSync, readSync, read as readCb, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KVM_EVENTS, KVM_EXIT_EVENTS, breakdown, guestMode, guestWindow, kvFields, loadControlClient, startDaemons } from './guest-window.mjs';
import { guestsDir, median, pvkvmJs, requireFile, round } from './lib.mjs';

const MiB = 1024 * 1024;
/** Image size (MiB); random reads spread over all of it. */
const IMAGE_MIB = Number(process.env.PVKVM_BENCH_BLK_IMAGE_MIB ?? 64);
/** Bytes the guest reads and writes sequentially (64 KiB requests) per phase, MiB. */
const SEQ_MIB = Number(process.env.PVKVM_BENCH_BLK_SEQ_MIB ?? 16);
const SEQ_QD = Number(process.env.PVKVM_BENCH_BLK_SEQ_QD ?? 8);
/** 4 KiB random reads the guest makes at QD 1 and at QD 8 / 32. */
const RAND_OPS_QD1 = Number(process.env.PVKVM_BENCH_BLK_RAND_OPS_QD1 ?? 500);
const RAND_OPS = Number(process.env.PVKVM_BENCH_BLK_RAND_OPS ?? 2000);
/** Host-side repetitions (cheap: the median is recorded) and host random reads per repetition. */
const HOST_RUNS = Number(process.env.PVKVM_BENCH_BLK_HOST_RUNS ?? 5);
const HOST_RAND_OPS = Number(process.env.PVKVM_BENCH_BLK_HOST_RAND_OPS ?? 20000);
/** Event-channel kicks (and null hypercalls, their yardstick) the guest times for the kick breakdown. */
const KICK_OPS = Number(process.env.PVKVM_BENCH_BLK_KICK_OPS ?? 20000);

const TARGETS = { seq_read_vs_host: 0.8, qd1_added_latency_us: 50, exits_per_request: 0.25 };

// ---- daemons and the toolstack client ----

// ---- one guest phase ----

const BENCH_LINE = /^blkwork bench (.*)$/m;
const STATS_LINE = /^blkwork stats (.*)$/m;


/**
 * One blkwork run on the image through dom0's toolstack, with counters over the measured loop:
 * from the `blkwork: disk` line (just before it) to the `blkwork bench` line (right after it),
 * as guest-window.mjs takes them. Returns the guest's numbers and the per-request deltas.
 */
async function guestPhase(ControlClient, env, label, cmdline, profile = true) {
  const { daemons, guest, image, kvm } = env;
  const name = `blk-${label}`;
  const settings = {
    name, kernel: guest, cmdline, memoryMiB: 64, vcpus: 1, modules: [],
    onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy',
    disks: [{ target: image, vdev: 'xvda', access: 'rw' }],
  };
  const { text, window, note } = await guestWindow(ControlClient, {
    daemons, scratch: env.scratch, perfState: kvm, settings, startRe: /^blkwork: disk .*\n/m, endRe: /^blkwork bench .*\n/m, profile,
  });
  const bench = BENCH_LINE.exec(text);
  const stats = STATS_LINE.exec(text);
  if (bench === null || stats === null || !/^Test result: SUCCESS$/m.test(text)) {
    throw new Error(`${name} (${cmdline}): ${text.trim().split('\n').slice(-4).join(' | ')}`);
  }
  const g = { ...kvFields(bench[1]), stats: kvFields(stats[1]), cmdline, guest_mode: guestMode(text) };
  g.mb_s = g.read_mb_s ?? g.write_mb_s;
  g.window = window;
  if (window === null) {
    g.counters = null;
    g.counters_note = note;
    return g;
  }
  const requests = g.stats.requests;
  const exits = window.userExits;
  const wallMs = window.ms;
  const kernel = window.kernel;
  const userExits = Object.values(exits).reduce((x, y) => x + y, 0);
  const perReq = (n) => (requests > 0 && Number.isFinite(n) ? round(n / requests, 4) : null);
  const kernelExits = kernel !== null ? KVM_EXIT_EVENTS.reduce((x, e) => x + (kernel[e] ?? 0), 0) : null;
  g.counters = {
    window_ms: round(wallMs, 1),
    user_exits: userExits,
    user_exits_by_kind: exits,
    exits_per_request: perReq(userExits),
    exits_per_request_by_kind: Object.fromEntries(Object.entries(exits).map(([k, v]) => [k, perReq(v)])),
    // Each frontend notify is an EVTCHNOP_send on the ioeventfd port: an in-kernel exit.
    notifies_per_request: perReq(g.stats.notifies),
    user_exits_plus_kicks_per_request: perReq(userExits + g.stats.notifies),
    kernel_events: kernel,
    kernel_exits_per_request: kernel !== null ? perReq(kernelExits) : null,
    kernel_per_request: kernel !== null ? Object.fromEntries(Object.entries(kernel).map(([k, v]) => [k, perReq(v)])) : null,
    // CPU busy during the window (1.0 = one CPU all the time): the vCPU thread is the busiest
    // thread of the hypervisor; blkback's data path is a worker thread in dom0.
    cpu: {
      hypervisor: round(window.cpu.hypervisor_ms / wallMs, 3),
      vcpu_thread: round(window.cpu.vcpu_thread_ms / wallMs, 3),
      dom0: round(window.cpu.dom0_ms / wallMs, 3),
      dom0_busiest_thread: round(window.cpu.dom0_busiest_thread_ms / wallMs, 3),
    },
    // Every thread's CPU ms by name, and the vCPU profile (fractions of each thread's samples).
    threads: window.threads,
    profile: window.profile,
  };
  return g;
}

// ---- the host side: the same file, the same requests, from Node ----

function rng(seed) {
  let s = BigInt(seed) * 0x9E3779B97F4A7C15n + 0x2545F4914F6CDD1Dn;
  const M = (1n << 64n) - 1n;
  return (n) => {
    s ^= s >> 12n; s ^= (s << 25n) & M; s ^= s >> 27n;
    return Number(((s * 0x2545F4914F6CDD1Dn) & M) % BigInt(n));
  };
}

/** Sequential bs-sized preads (or pwrites) over [0, bytes), one at a time; MB/s (10^6 B/s). */
function hostSeq(image, write, bytes, bs) {
  const fd = openSync(image, write ? 'r+' : 'r');
  try {
    const buf = Buffer.alloc(bs, 0x5a);
    const t0 = performance.now();
    for (let off = 0; off < bytes; off += bs) {
      const n = write ? writeSync(fd, buf, 0, bs, off) : readSync(fd, buf, 0, bs, off);
      if (n !== bs) throw new Error(`host ${write ? 'pwrite' : 'pread'} at ${off}: ${n} bytes`);
    }
    const secs = (performance.now() - t0) / 1000;
    return bytes / secs / 1e6;
  } finally {
    closeSync(fd);
  }
}

/** `ops` random 4 KiB preads, one at a time (fs.readSync); IOPS and mean latency in µs. */
function hostRandQd1(image, ops, seed) {
  const fd = openSync(image, 'r');
  try {
    const pick = rng(seed);
    const blocks = (IMAGE_MIB * MiB) / 4096;
    const buf = Buffer.alloc(4096);
    const t0 = performance.now();
    for (let i = 0; i < ops; i++) readSync(fd, buf, 0, 4096, pick(blocks) * 4096);
    const ms = performance.now() - t0;
    return { iops: (ops * 1000) / ms, avg_lat_us: (ms * 1000) / ops };
  } finally {
    closeSync(fd);
  }
}

/** `ops` random 4 KiB reads with `qd` asynchronous fs.read calls in flight (libuv's thread pool). */
function hostRandAsync(image, ops, qd, seed) {
  const fd = openSync(image, 'r');
  const pick = rng(seed);
  const blocks = (IMAGE_MIB * MiB) / 4096;
  return new Promise((resolve, reject) => {
    let issued = 0;
    let completed = 0;
    let failed = false;
    const t0 = performance.now();
    const issue = (buf) => {
      issued++;
      readCb(fd, buf, 0, 4096, pick(blocks) * 4096, (err) => {
        if (failed) return;
        if (err) { failed = true; closeSync(fd); reject(err); return; }
        if (++completed === ops) {
          const ms = performance.now() - t0;
          closeSync(fd);
          resolve({ iops: (ops * 1000) / ms });
        } else if (issued < ops) issue(buf);
      });
    };
    for (let i = 0; i < Math.min(qd, ops); i++) issue(Buffer.alloc(4096));
  });
}

// ---- the benchmark ----

/** One breakdown in a few words for the summary line (µs per unit). */
function summarize(what, b) {
  if (!b) return `${what}: n/a`;
  const v = b.vcpu_thread;
  const f = (x) => (x === null || x === undefined ? 'n/a' : Math.round(x));
  const dom0 = Object.values(b.dom0_threads).reduce((x, t) => x + (t.cpu_us ?? 0), 0);
  const pr = v?.profile;
  return `${what} ${f(b.wall_us)} µs = vCPU ${f(v?.cpu_us)} (emulator ${f(pr ? pr.guest_emulation_us + pr.guest_decode_us : null)}, ` +
    `bounce copy ${f(b.bounce_us)}; ${b.emulated_insns ?? 'n/a'} insns) + waiting ${f(b.waiting_us)}; dom0 ${f(dom0)}`;
}

/** Per-unit breakdown of one phase (guest-window.mjs `breakdown`) plus what blkfront reports. */
function phaseBreakdown(g, what, tscMhz, extra = {}) {
  if (!g.window) return null;
  const ops = g.ops > 0 ? g.ops : 1;
  const st = g.stats;
  return breakdown(g.window, ops, what, {
    guest_latency_us: g.avg_lat_us ?? null,
    ring_requests: round(st.requests / ops, 3),
    notifies: round(st.notifies / ops, 4),
    polls: round(st.polls / ops, 4),
    // The bounce copy through blkfront's persistent pool pages, timed by the guest itself.
    bounce_bytes: round((st.bounce_bytes ?? 0) / ops, 1),
    bounce_us: st.bounce_cycles !== undefined && tscMhz > 0 ? round(st.bounce_cycles / tscMhz / ops, 1) : null,
    ...extra,
  });
}

export async function run({ log, machine }) {
  const guest = requireFile(join(guestsDir, 'blkwork.elf'), 'run `node build.mjs` first');
  requireFile(pvkvmJs, 'run `node build.mjs` first');
  const seqBytes = SEQ_MIB * MiB;
  if (!(IMAGE_MIB >= 1) || !(SEQ_MIB >= 1) || SEQ_MIB > IMAGE_MIB || seqBytes % 65536 !== 0) {
    throw new Error('PVKVM_BENCH_BLK_SEQ_MIB must be 1..PVKVM_BENCH_BLK_IMAGE_MIB');
  }
  const ControlClient = await loadControlClient();
  const scratch = mkdtempSync(join(tmpdir(), 'pvkvm-bench-blk-'));
  const image = join(scratch, 'disk.img');
  let daemons = null;
  try {
    // A fully written image (no holes), then read once so that both sides run from the page cache.
    const fd = openSync(image, 'w');
    const chunk = Buffer.alloc(MiB);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7 + (i >> 9)) & 0xff;
    for (let m = 0; m < IMAGE_MIB; m++) writeSync(fd, chunk, 0, MiB, m * MiB);
    closeSync(fd);
    hostSeq(image, false, IMAGE_MIB * MiB, MiB);

    daemons = await startDaemons('pvkvm-bench-blk-run-');
    const kvm = { available: true, why: null };
    const env = { daemons, guest, image, kvm, scratch };
    const phase = async (label, cmdline, profile = true) => {
      const g = await guestPhase(ControlClient, env, label, cmdline, profile);
      const c = g.counters;
      const perf = g.ns_per_op !== undefined ? `${g.ns_per_op} ns (${g.cycles_per_op} cycles) per call` : `${g.mb_s} MB/s, ${g.iops} IOPS, avg ${g.avg_lat_us} µs`;
      log(`${label}: ${cmdline}: ${perf}; requests ${g.stats.requests}, ` +
        `notifies ${g.stats.notifies}` + (c ? `; user-space exits/request ${c.exits_per_request}, kernel ${c.kernel_exits_per_request ?? 'n/a'}; ` +
          `CPU vCPU ${c.cpu.vcpu_thread} dom0 ${c.cpu.dom0}` : `; no counters (${g.counters_note})`));
      return g;
    };
    const hostMedian = (fn) => median(Array.from({ length: HOST_RUNS }, fn));

    // Untimed: one short guest run warms the daemons' code paths and the guest image.
    await guestPhase(ControlClient, env, 'warm', 'mode=randread size=1M bs=4096 qd=8 ops=64');

    const seqArgs = `size=${SEQ_MIB}M bs=65536 qd=${SEQ_QD}`;
    // register=1: blkwork declares its buffers I/O memory (block_register_buffer), so blkfront
    // grants them once and sends requests without copying; without it every request bounces
    // through blkfront's persistent pool (seq-read-bounce), and with persistent=0 each request
    // grants the caller's pages itself (seq-read-direct).
    const gRead = await phase('seq-read', `mode=bench ${seqArgs} register=1`);
    const gReadBounce = await phase('seq-read-bounce', `mode=bench ${seqArgs}`);
    const hRead = hostMedian(() => hostSeq(image, false, seqBytes, 65536));
    const gReadDirect = await phase('seq-read-direct', `mode=bench ${seqArgs} blkfront.persistent=0`);
    const gWrite = await phase('seq-write', `mode=benchwrite ${seqArgs} register=1`);
    const hWrite = hostMedian(() => hostSeq(image, true, seqBytes, 65536));
    const randArgs = (qd, ops) => `mode=randread size=${IMAGE_MIB}M bs=4096 qd=${qd} ops=${ops} register=1`;
    const gQd1 = await phase('rand-qd1', randArgs(1, RAND_OPS_QD1));
    const hQd1s = Array.from({ length: HOST_RUNS }, (_, i) => hostRandQd1(image, HOST_RAND_OPS, i + 1));
    const hQd1 = { iops: median(hQd1s.map((r) => r.iops)), avg_lat_us: median(hQd1s.map((r) => r.avg_lat_us)) };
    const gQd8 = await phase('rand-qd8', randArgs(8, RAND_OPS));
    const gQd32 = await phase('rand-qd32', randArgs(32, RAND_OPS));
    const hQd32s = [];
    for (let i = 0; i < HOST_RUNS; i++) hQd32s.push((await hostRandAsync(image, HOST_RAND_OPS, 32, 100 + i)).iops);
    const hQd32 = median(hQd32s);
    // The kick: EVTCHNOP_send on the disk's port with nothing queued (blkback wakes, finds no
    // request, re-arms), against a null hypercall in the same guest.
    // Unprofiled: these windows are too short for perf record to start inside them.
    const gKick = await phase('kick', `mode=kick ops=${KICK_OPS}`, false);
    const gNull = await phase('nullcall', `mode=nullcall ops=${KICK_OPS}`, false);
    const tscMhz = gKick.ns_per_op > 0 ? gKick.cycles_per_op / (gKick.ns_per_op / 1000) : (machine?.cpu_mhz ?? 0);
    const bd = {
      read_64k_qd8: phaseBreakdown(gRead, '64 KiB read, sequential, QD 8 (persistent grants, registered buffers)', tscMhz),
      read_64k_qd8_bounce: phaseBreakdown(gReadBounce, '64 KiB read, sequential, QD 8 (persistent grants, bounced)', tscMhz),
      read_64k_qd8_direct: phaseBreakdown(gReadDirect, '64 KiB read, sequential, QD 8 (blkfront.persistent=0)', tscMhz),
      read_4k_qd1: phaseBreakdown(gQd1, '4 KiB random read, QD 1', tscMhz, { host_latency_us: round(hQd1.avg_lat_us, 2) }),
      read_4k_qd8: phaseBreakdown(gQd8, '4 KiB random read, QD 8', tscMhz),
      kick: phaseBreakdown(gKick, 'EVTCHNOP_send to blkback (ioeventfd), nothing queued', tscMhz,
        { guest_ns: gKick.ns_per_op, guest_cycles: gKick.cycles_per_op }),
      null_hypercall: phaseBreakdown(gNull, 'xen_version hypercall (user-space exit)', tscMhz,
        { guest_ns: gNull.ns_per_op, guest_cycles: gNull.cycles_per_op }),
      kick_vs_null_hypercall: gNull.cycles_per_op > 0 ? round(gKick.cycles_per_op / gNull.cycles_per_op, 3) : null,
      tsc_mhz: round(tscMhz, 1),
    };

    const ratio = (a, b) => round(a / b, 4);
    const seqReadRatio = gRead.mb_s / hRead;
    const addedLat = gQd1.avg_lat_us - hQd1.avg_lat_us;
    const exitsPhase = gQd8.counters;
    const guestNums = (g) => ({
      mb_s: g.mb_s, iops: g.iops, avg_lat_us: g.avg_lat_us, max_lat_us: g.max_lat_us,
      p50_lat_us: g.p50_lat_us ?? null, p99_lat_us: g.p99_lat_us ?? null, ops: g.ops, bytes: g.bytes,
      elapsed_us: g.elapsed_us, bs: g.bs, qd: g.qd, cmdline: g.cmdline, guest_mode: g.guest_mode, blkfront: g.stats, counters: g.counters,
      ...(g.ns_per_op !== undefined ? { ns_per_op: g.ns_per_op, cycles_per_op: g.cycles_per_op } : {}),
      ...(g.counters_note ? { counters_note: g.counters_note } : {}),
    });
    const phases = {
      seq_read: gRead, seq_read_bounce: gReadBounce, seq_read_direct: gReadDirect, seq_write: gWrite, randread_qd1: gQd1, randread_qd8: gQd8, randread_qd32: gQd32,
    };
    const modes = [...new Set([...Object.values(phases), gKick, gNull].map((g) => g.guest_mode))];
    const fmt = (x, d = 3) => (x === null || x === undefined ? 'n/a' : Number(x).toFixed(d));
    return {
      seq_read_vs_host: ratio(gRead.mb_s, hRead),
      seq_read_bounce_vs_host: ratio(gReadBounce.mb_s, hRead),
      seq_read_direct_vs_host: ratio(gReadDirect.mb_s, hRead),
      seq_write_vs_host: ratio(gWrite.mb_s, hWrite),
      randread_iops_qd1: gQd1.iops,
      host_randread_iops_qd1: Math.round(hQd1.iops),
      randread_qd1_vs_host: ratio(gQd1.iops, hQd1.iops),
      randread_iops_qd8: gQd8.iops,
      randread_iops_qd32: gQd32.iops,
      host_randread_iops_qd32: Math.round(hQd32),
      randread_qd32_vs_host: ratio(gQd32.iops, hQd32),
      qd1_added_latency_us: round(addedLat, 1),
      guest_qd1_latency_us: gQd1.avg_lat_us,
      host_qd1_latency_us: round(hQd1.avg_lat_us, 2),
      exits_per_request: exitsPhase?.exits_per_request ?? null,
      exits_per_request_by_kind: exitsPhase?.exits_per_request_by_kind ?? null,
      user_exits_plus_kicks_per_request: exitsPhase?.user_exits_plus_kicks_per_request ?? null,
      kernel_exits_per_request: exitsPhase?.kernel_exits_per_request ?? null,
      emulated_insns_per_request: exitsPhase?.kernel_per_request?.kvm_emulate_insn ?? null,
      guest_mode: modes.length === 1 ? modes[0] : modes.join(','),
      breakdown: bd,
      limits: Object.fromEntries(Object.entries(phases).map(([k, g]) => [k, {
        guest_us_per_request: round(g.elapsed_us / g.ops, 1),
        vcpu_thread_busy: g.counters?.cpu.vcpu_thread ?? null,
        dom0_busy: g.counters?.cpu.dom0 ?? null,
        emulated_insns_per_request: g.counters?.kernel_per_request?.kvm_emulate_insn ?? null,
        bounced_per_request: round(g.stats.bounced / g.stats.requests, 3),
      }])),
      kernel_counters: kvm.available ? `perf stat -p HYPERVISOR_PID on kvm:{${KVM_EVENTS.join(',')}}` : `unavailable: ${kvm.why}`,
      exits_phase: 'rand-qd8 (4 KiB random reads, QD 8)',
      targets: TARGETS,
      host: {
        seq_read_mb_s: round(hRead, 1), seq_write_mb_s: round(hWrite, 1),
        randread_qd1_iops: Math.round(hQd1.iops), randread_qd1_avg_lat_us: round(hQd1.avg_lat_us, 2),
        randread_qd32_iops: Math.round(hQd32),
        runs: HOST_RUNS, rand_ops: HOST_RAND_OPS,
        per_run: {
          randread_qd1_iops: hQd1s.map((r) => Math.round(r.iops)), randread_qd32_iops: hQd32s.map(Math.round),
        },
      },
      guest: Object.fromEntries(Object.entries({ ...phases, kick: gKick, nullcall: gNull }).map(([k, g]) => [k, guestNums(g)])),
      image_mib: IMAGE_MIB,
      seq_mib: SEQ_MIB,
      summary: `seq_read_vs_host ${fmt(seqReadRatio, 4)} (guest ${gRead.mb_s} MB/s ÷ host ${hRead.toFixed(0)} MB/s; target ≥ 0.8); ` +
        `seq_write_vs_host ${fmt(gWrite.mb_s / hWrite, 4)}; randread IOPS qd1 ${gQd1.iops} (host ${Math.round(hQd1.iops)}), ` +
        `qd32 ${gQd32.iops} (host ${Math.round(hQd32)}); qd1_added_latency ${addedLat.toFixed(1)} µs (target ≤ 50); ` +
        `exits/request at QD 8: user-space ${fmt(exitsPhase?.exits_per_request)}, +kicks ${fmt(exitsPhase?.user_exits_plus_kicks_per_request)}, ` +
        `kernel ${fmt(exitsPhase?.kernel_exits_per_request)} (target ≤ 0.25); limit: vCPU thread busy ` +
        `${fmt(median(Object.values(phases).map((g) => g.counters?.cpu.vcpu_thread ?? NaN)), 2)}, dom0 ` +
        `${fmt(median(Object.values(phases).map((g) => g.counters?.cpu.dom0 ?? NaN)), 2)} (medians over phases); ` +
        `breakdown ${summarize('64 KiB', bd.read_64k_qd8)}; ${summarize('4 KiB QD1', bd.read_4k_qd1)}; ${summarize('kick', bd.kick)} ` +
        `(${fmt(bd.kick_vs_null_hypercall, 2)}× a null hypercall); guest ${modes.join(',')}`,
    };
  } finally {
    if (daemons !== null) await daemons.down();
    rmSync(scratch, { recursive: true, force: true });
  }
}
