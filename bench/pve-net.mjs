// pve-net.mjs: the network section of pv-vs-emulated — the same `network` guest sending UDP over the PV NIC, pvkvm's NE2000 model and QEMU's ne2k_isa, beside the host's veth reference.
import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cpuDelta, cpuTimes, guestMode, guestWindow, startPerf } from './guest-window.mjs';
import { backgroundGuest, guestReport } from './net.mjs';
import { vethReference } from './net-host.mjs';
import { epochMs, guestsDir, round } from './lib.mjs';

const BULK_COUNT = Number(process.env.PVKVM_BENCH_PVE_NET_BULK ?? 3000);
const SMALL_COUNT = Number(process.env.PVKVM_BENCH_PVE_NET_SMALL ?? 5000);
const PINGS = Number(process.env.PVKVM_BENCH_PVE_NET_PINGS ?? 200);
/** 1472: a full 1514-byte frame; 18: a minimum 64-byte frame (with FCS). */
const BULK_SIZE = 1472;
const SMALL_SIZE = 18;
const PORT = 7000;
/** The NE2000 driver as Linux's ne.c runs it: interrupt-driven (IRQ 9). */
const NE2K_MODE = process.env.PVKVM_BENCH_PVE_NET_NE2K_MODE ?? 'irq';
const TARGETS = { net_bulk_speedup: 3, net_small_speedup: 5 };
const START_RE = /^net: udp-send start .*\n/m;
const END_RE = /^net: udp-send sent=.*\n/m;

const LABELS = {
  pv: 'PV (netfront → netback switch)',
  ne2k: `pvkvm NE2000 model (ne2k_isa, ${NE2K_MODE})`,
  qemu: `QEMU ne2k_isa (user-mode netdev, ${NE2K_MODE})`,
  host: 'host: veth between two namespaces (udpblast)',
};

const mac = (n) => `00:16:3e:be:01:${n.toString(16).padStart(2, '0')}`;

function settings(name, cmdline, vif) {
  return { name, kernel: join(guestsDir, 'network.elf'), cmdline, memoryMiB: 32, vcpus: 1, modules: [], onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy', vifs: [vif] };
}

/** Everything a guest prints until it ends (console attached). */
async function consoleRun(ControlClient, runDir, s) {
  const con = await ControlClient.connect(runDir);
  let text = '';
  const done = new Promise((resolve) => { con.once('end', resolve); con.once('close', resolve); });
  con.on('output', (b) => { text += b.toString('utf8'); });
  await con.request('create', { settings: s, console: true });
  await done;
  con.close();
  return text;
}

/** Per-packet figures over the sender's window; PV adds its notifications (in-kernel ioeventfd exits). */
function perPacket(window, packets, notifies) {
  if (window === null) return null;
  const user = Object.values(window.userExits).reduce((x, y) => x + y, 0);
  // Per-thread deltas of the threads alive at the end: a guest's vCPU thread that exits inside the
  // window (the warm-up's, a receiver's) would otherwise take its whole lifetime off the total.
  const cpuMs = Object.values(window.threads).flatMap((g) => Object.values(g)).reduce((x, t) => x + t.ms, 0);
  return {
    window_ms: round(window.ms, 1),
    exits_per_packet: round((user + notifies) / packets, 3),
    exits_per_packet_by_kind: { ...Object.fromEntries(Object.entries(window.userExits).map(([k, v]) => [k, round(v / packets, 3)])), ...(notifies ? { 'notify (ioeventfd)': round(notifies / packets, 3) } : {}) },
    cpu_us_per_packet: round((cpuMs * 1000) / packets, 2),
    cpu_ms: round(cpuMs, 1),
  };
}

/** One pvkvm stream: sender `kind` (pv | ne2k) → a PV udp-recv guest on the internal switch. */
async function pvkvmStream(ControlClient, env, kind, size, count, tag) {
  const net = `10.95.${env.subnet++ % 250}`;
  const rx = await backgroundGuest(ControlClient, env.daemons.runDir, settings(`pven-${tag}-rx`,
    `mode=udp-recv ip=${net}.2 port=${PORT} count=${count} timeout=120`, { mac: mac(2) }), /^net: (udp-recv )?listening/m);
  const ne = kind === 'ne2k' ? ` ne2k.mode=${NE2K_MODE}` : '';
  const vif = kind === 'ne2k' ? { mac: mac(3), model: 'ne2k_isa' } : { mac: mac(3) };
  const { text, window, note } = await guestWindow(ControlClient, {
    daemons: env.daemons, scratch: env.scratch, perfState: { available: false }, startRe: START_RE, endRe: END_RE, timeoutMs: 300_000,
    settings: settings(`pven-${tag}`, `mode=udp-send ip=${net}.3 peer=${net}.2 port=${PORT} size=${size} count=${count}${ne}`, vif),
  });
  const sent = guestReport(text, 'udp-send');
  if (sent === null || !/^Test result: SUCCESS$/m.test(text)) throw new Error(`${tag}: ${text.trim().split('\n').slice(-4).join(' | ')}`);
  const r = guestReport(await rx.done, 'udp-recv');
  if (r === null) throw new Error(`${tag}: the receiving guest printed no report`);
  const nic = guestReport(text, 'nic-stats');
  const counters = perPacket(window, sent.sent, kind === 'pv' ? nic?.notifies ?? 0 : 0);
  return { sent, received: r, counters, ...(counters === null ? { counters_note: note } : {}), guest_mode: guestMode(text) };
}

async function pvkvmPing(ControlClient, env, kind) {
  const net = `10.95.${env.subnet++ % 250}`;
  const resp = await backgroundGuest(ControlClient, env.daemons.runDir, settings(`pven-${kind}-pong`,
    `mode=responder ip=${net}.2 duration=120`, { mac: mac(4) }), /^net: responder on port/m);
  const ne = kind === 'ne2k' ? ` ne2k.mode=${NE2K_MODE}` : '';
  const vif = kind === 'ne2k' ? { mac: mac(5), model: 'ne2k_isa' } : { mac: mac(5) };
  const text = await consoleRun(ControlClient, env.daemons.runDir, settings(`pven-${kind}-ping`, `mode=ping ip=${net}.3 peer=${net}.2 count=${PINGS}${ne}`, vif));
  const ctl = await ControlClient.connect(env.daemons.runDir);
  await ctl.request('destroy', { domain: `pven-${kind}-pong` }).catch(() => undefined);
  ctl.close();
  await resp.done.catch(() => undefined);
  return guestReport(text, 'ping');
}

// ---- QEMU: the same guest image with ne2k_isa on a user-mode (slirp) netdev ----

export function qemuNetArgs(cmdline, accel) {
  return ['-machine', 'pc', '-accel', accel, '-m', '64', '-display', 'none', '-monitor', 'none', '-no-reboot', '-nodefaults',
    '-kernel', join(guestsDir, 'network.elf'), '-append', cmdline, '-device', 'isa-debug-exit,iobase=0x501,iosize=4',
    '-serial', 'none', '-debugcon', 'stdio', '-netdev', 'user,id=n0', '-device', 'ne2k_isa,netdev=n0,iobase=0x300,irq=9,mac=52:54:00:12:34:56'];
}

/** One QEMU run; the udp-send window is bracketed by its markers (CPU time, KVM tracepoints through perf when it can). */
async function qemuOnce(qemu, cmdline, accel, scratch, perfState) {
  const child = spawn(qemu, qemuNetArgs(cmdline, accel), { stdio: ['ignore', 'pipe', 'pipe'] });
  let perf = null;
  let perfOn = false;
  const perfStarting = perfState.available && accel === 'kvm'
    ? startPerf(scratch, child.pid).then((p) => { perf = p; }, (err) => { perfState.available = false; perfState.why = err.message; })
    : Promise.resolve();
  let text = '';
  let start = null;
  let end = null;
  child.stdout.on('data', (d) => {
    text += d.toString('latin1').replace(/\r/g, '');
    if (start === null && START_RE.test(text)) {
      start = { atMs: epochMs(), cpu: cpuTimes(child.pid) };
      if (perf !== null) void perf.command('enable').then((ok) => { perfOn = ok; });
    }
    if (end === null && END_RE.test(text)) {
      end = { atMs: epochMs(), cpu: cpuTimes(child.pid) };
      if (perf !== null) void perf.command('disable');
    }
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d.toString(); });
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code = await new Promise((resolve, reject) => { child.on('error', reject); child.on('close', resolve); });
  clearTimeout(killer);
  await perfStarting;
  const kernel = perf !== null ? await perf.stop() : null;
  return { text, code, stderr, start, end, kernel: perfOn ? kernel : null };
}

/** QEMU's stream to a UDP socket here (slirp forwards 10.0.2.2:P to the host's 127.0.0.1:P). */
async function qemuStream(env, size, count) {
  const sock = createSocket('udp4');
  let got = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  sock.on('message', (m) => {
    if (m.length !== size || m.readUInt32BE(4) !== 0) return; // the done markers
    if (got === 0) first = performance.now();
    last = performance.now();
    got++;
    bytes += m.length;
  });
  const port = await new Promise((res) => sock.bind(0, '127.0.0.1', () => res(sock.address().port)));
  const cmdline = `mode=udp-send ip=10.0.2.15 mask=24 gw=10.0.2.2 peer=10.0.2.2 port=${port} size=${size} count=${count} ne2k.mode=${NE2K_MODE}`;
  try {
    let r = await qemuOnce(env.qemu.bin, cmdline, env.qemu.accel, env.scratch, env.perf);
    if (env.qemu.accel === 'kvm' && r.start === null) {
      env.qemu.fallback = `QEMU could not use KVM (${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}); TCG instead`;
      env.qemu.accel = 'tcg';
      got = 0; bytes = 0;
      r = await qemuOnce(env.qemu.bin, cmdline, env.qemu.accel, env.scratch, env.perf);
    }
    await new Promise((res) => setTimeout(res, 200));
    const sent = guestReport(r.text, 'udp-send');
    if (sent === null || r.start === null || r.end === null) throw new Error(`qemu udp-send: ${r.text.trim().split('\n').slice(-3).join(' | ') || r.stderr.trim()}`);
    const secs = (last - first) / 1000;
    const received = { received: got, lost: count - got, bytes, mbps: secs > 0 ? round((bytes * 8) / secs / 1e6, 3) : null, pps: secs > 0 ? Math.round(got / secs) : null };
    const cpu = cpuDelta(r.start.cpu, r.end.cpu);
    const counters = {
      window_ms: round(r.end.atMs - r.start.atMs, 1),
      // QEMU's user-space exits are its KVM_RUN returns.
      exits_per_packet: r.kernel?.kvm_userspace_exit !== undefined && r.kernel.kvm_userspace_exit !== null ? round(r.kernel.kvm_userspace_exit / sent.sent, 3) : null,
      exits_per_packet_by_kind: r.kernel ? Object.fromEntries(Object.entries(r.kernel).filter(([, v]) => v).map(([k, v]) => [k, round(v / sent.sent, 3)])) : null,
      cpu_us_per_packet: round((cpu.total_ms * 1000) / sent.sent, 2),
      cpu_ms: round(cpu.total_ms, 1),
    };
    return { sent, received, counters, accel: env.qemu.accel };
  } finally {
    sock.close();
  }
}

async function qemuPing(env) {
  const r = await qemuOnce(env.qemu.bin, `mode=ping ip=10.0.2.15 mask=24 gw=10.0.2.2 peer=10.0.2.2 count=${PINGS} ne2k.mode=${NE2K_MODE}`, env.qemu.accel, env.scratch, { available: false });
  return guestReport(r.text, 'ping');
}

/**
 * The section: per configuration bulk (1472-byte) and small (18-byte) streams, RTT, exits per
 * packet by kind and CPU per packet; `env`: { daemons, scratch, perf, qemu: { bin, accel, missing } }.
 */
export async function networkSection(ControlClient, env, log) {
  const e = { ...env, subnet: 1 };
  const configs = {};
  const show = (k, what, x) => log(`net ${k} ${what}: received ${x.received.received}/${x.sent.sent}, ${x.received.mbps} Mb/s, ${x.received.pps} pps; ` +
    `exits/packet ${x.counters?.exits_per_packet ?? 'n/a'}, CPU ${x.counters?.cpu_us_per_packet ?? 'n/a'} µs/packet`);
  // Untimed warm-up of both NICs' paths.
  await pvkvmStream(ControlClient, e, 'pv', BULK_SIZE, 500, 'warm-pv');
  await pvkvmStream(ControlClient, e, 'ne2k', BULK_SIZE, 200, 'warm-ne2k');
  for (const k of ['pv', 'ne2k']) {
    const bulk = await pvkvmStream(ControlClient, e, k, BULK_SIZE, BULK_COUNT, `${k}-bulk`);
    show(k, 'bulk', bulk);
    const small = await pvkvmStream(ControlClient, e, k, SMALL_SIZE, SMALL_COUNT, `${k}-small`);
    show(k, 'small', small);
    const rtt = await pvkvmPing(ControlClient, e, k);
    configs[k] = { label: LABELS[k], bulk, small, rtt };
  }
  const qemuWhy = env.qemu.missing;
  if (qemuWhy === null) {
    try {
      const bulk = await qemuStream(e, BULK_SIZE, BULK_COUNT);
      show('qemu', 'bulk', bulk);
      const small = await qemuStream(e, SMALL_SIZE, SMALL_COUNT);
      show('qemu', 'small', small);
      configs.qemu = { label: `${LABELS.qemu}, ${e.qemu.accel.toUpperCase()}`, bulk, small, rtt: await qemuPing(e) };
    } catch (err) {
      configs.qemu_error = err.message;
      log(`net qemu: ${err.message}`);
    }
  }
  let host = null;
  try {
    host = await vethReference({ bulkCount: BULK_COUNT, smallCount: SMALL_COUNT, pings: PINGS, runs: 1, log });
  } catch (err) {
    host = { error: err.message };
  }
  const rows = {};
  for (const [k, c] of Object.entries(configs)) {
    if (typeof c !== 'object') continue;
    rows[k] = {
      label: c.label,
      bulk_mbps: c.bulk.received.mbps, bulk_received: c.bulk.received.received, bulk_lost: c.bulk.received.lost, bulk_sent_pps: c.bulk.sent.pps,
      small_pps: c.small.received.pps, small_received: c.small.received.received, small_lost: c.small.received.lost, small_sent_pps: c.small.sent.pps,
      rtt_p50_us: c.rtt?.rtt_p50_us ?? null, rtt_p99_us: c.rtt?.rtt_p99_us ?? null,
      exits_per_packet: c.bulk.counters?.exits_per_packet ?? null, exits_per_packet_by_kind: c.bulk.counters?.exits_per_packet_by_kind ?? null,
      exits_per_packet_small: c.small.counters?.exits_per_packet ?? null, exits_per_packet_small_by_kind: c.small.counters?.exits_per_packet_by_kind ?? null,
      cpu_us_per_packet: c.bulk.counters?.cpu_us_per_packet ?? null, cpu_us_per_packet_small: c.small.counters?.cpu_us_per_packet ?? null,
      ...(c.accel ? { accel: c.accel } : {}),
    };
  }
  if (host && !host.error) {
    rows.host = { label: LABELS.host, bulk_mbps: host.bulk_mbps, bulk_lost: host.bulk_lost, small_pps: host.small_pps, small_lost: host.small_lost,
      rtt_p50_us: host.rtt_p50_us, rtt_p99_us: host.rtt_p99_us, exits_per_packet: 0 };
  }
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? Number((a / b).toPrecision(4)) : null);
  return {
    net_bulk_speedup: ratio(rows.pv.bulk_mbps, rows.ne2k.bulk_mbps),
    net_small_speedup: ratio(rows.pv.small_pps, rows.ne2k.small_pps),
    net_exits_per_packet_pv: rows.pv.exits_per_packet,
    net_exits_per_packet_emulated: rows.ne2k.exits_per_packet,
    network: {
      configs: rows,
      targets: TARGETS,
      host_error: host?.error ?? null,
      qemu: { available: qemuWhy === null && configs.qemu !== undefined, why: qemuWhy ?? configs.qemu_error ?? null, accel: configs.qemu ? e.qemu.accel : null,
        fallback: e.qemu.fallback ?? null, command: `${env.qemu.bin} ${qemuNetArgs('CMDLINE', e.qemu.accel).join(' ')}` },
      workload: {
        guest: 'dist/guests/network.elf, unchanged: mode=udp-send, unpaced, from its `net: udp-send start` line to its report',
        bulk: `${BULK_COUNT} UDP datagrams of ${BULK_SIZE} bytes (1514-byte frames)`,
        small: `${SMALL_COUNT} UDP datagrams of ${SMALL_SIZE} bytes (64-byte frames with FCS)`,
        receiver: 'pvkvm: a PV `network` guest (udp-recv) on the internal switch; QEMU: a UDP socket on the host through slirp; host: udpblast over veth',
        throughput: 'as the receiver counts it, first to last datagram (lost ones are not counted)',
        rtt: `${PINGS} ICMP echoes one at a time: to a PV responder guest (pvkvm), to slirp's gateway (QEMU), across veth (host)`,
        exits_per_packet: "user-space exits over the sender's window per datagram sent, plus netfront's notifications (in-kernel ioeventfd exits) for PV; QEMU: kvm_userspace_exit (perf)",
        cpu: "pvkvm: the hypervisor and dom0 processes over the sender's window (both guests); QEMU: its process",
        ne2k_mode: NE2K_MODE,
      },
    },
  };
}
