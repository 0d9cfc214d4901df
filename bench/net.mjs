// net.mjs: the PV network — the `network` guest sending UDP through netfront → netback → a host
// bridge and TAP to the host's own stack (guest→host), and to a second guest over dom0's internal
// switch (guest→guest); ping RTT; exits and dom0 CPU per packet over the sender's window — each
// beside the same measurement between two host network namespaces over veth.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { breakdown, guestMode, guestWindow, kvFields, loadControlClient, startDaemons } from './guest-window.mjs';
import { guestsDir, pvkvmJs, requireFile, round } from './lib.mjs';
import { buildUdpblast, ip, netFields, removeQuietly, startReceiver, vethReference } from './net-host.mjs';

const BULK_COUNT = Number(process.env.PVKVM_BENCH_NET_BULK_COUNT ?? 100_000);
const SMALL_COUNT = Number(process.env.PVKVM_BENCH_NET_SMALL_COUNT ?? 100_000);
const PINGS = Number(process.env.PVKVM_BENCH_NET_PINGS ?? 500);
/** UDP payload of a full-size frame (1500-byte IP packet) and of a minimum (64-byte) Ethernet frame. */
const BULK_SIZE = 1472;
const SMALL_SIZE = 18;
const PORT = 7000;
const BRIDGE = 'pvkbench0';
const HOST_IP = '10.97.0.1';
const TARGETS = { exits_per_packet: 0.1 };

const mac = (n) => `00:16:3e:be:00:${n.toString(16).padStart(2, '0')}`;

function settings(name, cmdline, vif) {
  return {
    name, kernel: join(guestsDir, 'network.elf'), cmdline, memoryMiB: 32, vcpus: 1, modules: [],
    onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy', vifs: [vif],
  };
}

/**
 * A guest that runs beside the measured one (a receiver): created with its console attached;
 * resolves once `readyRe` has appeared, to `{ done }`, a promise of its whole output at its end.
 */
export async function backgroundGuest(ControlClient, runDir, s, readyRe, timeoutMs = 60_000) {
  const con = await ControlClient.connect(runDir);
  let text = '';
  const done = new Promise((resolve) => {
    con.once('end', () => resolve(text));
    con.once('close', () => resolve(text));
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${s.name}: not ready within ${timeoutMs / 1000} s: ${text.trim().split('\n').slice(-3).join(' | ')}`)), timeoutMs);
    con.on('output', (b) => {
      text += b.toString('utf8');
      if (readyRe.test(text)) { clearTimeout(timer); resolve(); }
    });
    void done.then(() => { clearTimeout(timer); reject(new Error(`${s.name} ended early: ${text.trim().split('\n').slice(-3).join(' | ')}`)); });
  });
  await con.request('create', { settings: s, console: true });
  await ready;
  return { done: done.finally(() => con.close()) };
}

/** The guest's `net: KIND k=v…` line as numbers (null when it did not print one). */
export function guestReport(text, kind) {
  const line = [...text.matchAll(new RegExp(`^net: ${kind} (\\w+=.*)$`, 'gm'))].pop()?.[1];
  return line === undefined ? null : kvFields(line);
}

/**
 * One measured sender run: the guest's udp-send from its start line to its report, with
 * pvkvm's counters over that window. Per packet: user-space exits plus the frontend's
 * notifications (each an in-kernel ioeventfd exit), dom0's CPU time.
 */
async function senderPhase(ControlClient, env, label, s) {
  const { text, window, note } = await guestWindow(ControlClient, {
    daemons: env.daemons, scratch: env.scratch, perfState: env.kvm, settings: s,
    startRe: /^net: udp-send start .*\n/m, endRe: /^net: udp-send sent=.*\n/m, timeoutMs: 300_000,
  });
  const sent = guestReport(text, 'udp-send');
  const nic = guestReport(text, 'nic-stats');
  if (sent === null || !/^Test result: SUCCESS$/m.test(text)) {
    throw new Error(`${label}: ${text.trim().split('\n').slice(-4).join(' | ')}`);
  }
  const packets = sent.sent;
  const out = { guest: sent, nic, guest_mode: guestMode(text), counters: null };
  if (window === null) {
    out.counters_note = note;
    return out;
  }
  const user = Object.values(window.userExits).reduce((x, y) => x + y, 0);
  const notifies = nic?.notifies ?? 0;
  out.counters = {
    window_ms: round(window.ms, 1),
    user_exits_by_kind: window.userExits,
    user_exits_per_packet: round(user / packets, 4),
    notifies_per_packet: round(notifies / packets, 4),
    exits_per_packet: round((user + notifies) / packets, 4),
    dom0_cpu_us_per_packet: round((window.cpu.dom0_ms * 1000) / packets, 2),
    vcpu_cpu_us_per_packet: round((window.cpu.vcpu_thread_ms * 1000) / packets, 2),
    breakdown: breakdown(window, packets, 'packet'),
  };
  return out;
}

export async function run({ log }) {
  requireFile(join(guestsDir, 'network.elf'), 'run `node build.mjs` first');
  requireFile(pvkvmJs, 'run `node build.mjs` first');
  const udpblast = buildUdpblast();
  const veth = await vethReference({ bulkCount: BULK_COUNT, smallCount: SMALL_COUNT, pings: PINGS, runs: 1, log });
  const ControlClient = await loadControlClient();
  const scratch = mkdtempSync(join(tmpdir(), 'pvkvm-bench-net-'));
  let daemons = null;
  removeQuietly('link', BRIDGE);
  try {
    // The host end: a Linux bridge with an address in the root namespace, as on a Xen host
    // (xenbr0); the guest's TAP (vifDOMID.0) joins it.
    ip('link', 'add', BRIDGE, 'type', 'bridge');
    ip('addr', 'add', `${HOST_IP}/24`, 'dev', BRIDGE);
    ip('link', 'set', BRIDGE, 'up');
    daemons = await startDaemons('pvkvm-bench-net-run-');
    const env = { daemons, scratch, kvm: { available: true, why: null } };
    const bridged = (n) => ({ mac: mac(n), bridge: BRIDGE });

    // guest → host: the host's own UDP stack receives (udpblast, in the root namespace).
    const toHost = async (label, size, count) => {
      const rx = await startReceiver(udpblast, null, PORT, count, 3000);
      const g = await senderPhase(ControlClient, env, label, settings(`net-${label}`,
        `mode=udp-send ip=10.97.0.2 peer=${HOST_IP} port=${PORT} size=${size} count=${count}`, bridged(1)));
      const r = netFields((await rx.done).stdout, 'received');
      if (r === null) throw new Error(`${label}: the host receiver printed no report`);
      g.host = r;
      log(`${label}: guest sent ${g.guest.pps} pps (${g.guest.mbps} Mb/s); host received ${r.received}/${count}, ` +
        `${r.mbps} Mb/s, ${r.pps} pps; exits/packet ${g.counters?.exits_per_packet ?? 'n/a'}, dom0 µs/packet ${g.counters?.dom0_cpu_us_per_packet ?? 'n/a'}`);
      return g;
    };
    await toHost('warm', BULK_SIZE, 2000);
    const hostBulk = await toHost('guest-host-bulk', BULK_SIZE, BULK_COUNT);
    const hostSmall = await toHost('guest-host-small', SMALL_SIZE, SMALL_COUNT);

    // guest → guest over dom0's internal switch (no bridge: vifs on the switch).
    const toGuest = async (label, size, count) => {
      const rx = await backgroundGuest(ControlClient, daemons.runDir, settings(`net-${label}-rx`,
        `mode=udp-recv ip=10.96.0.2 port=${PORT} count=${count} timeout=120`, { mac: mac(2) }), /^net: (udp-recv )?listening/m);
      const g = await senderPhase(ControlClient, env, label, settings(`net-${label}`,
        `mode=udp-send ip=10.96.0.3 peer=10.96.0.2 port=${PORT} size=${size} count=${count}`, { mac: mac(3) }));
      const r = guestReport(await rx.done, 'udp-recv');
      if (r === null) throw new Error(`${label}: the receiving guest printed no report`);
      g.receiver = r;
      log(`${label}: sent ${g.guest.pps} pps; received ${r.received}/${count} (${r.lost} lost), ${r.mbps} Mb/s, ${r.pps} pps; ` +
        `exits/packet ${g.counters?.exits_per_packet ?? 'n/a'}`);
      return g;
    };
    const guestBulk = await toGuest('guest-guest-bulk', BULK_SIZE, BULK_COUNT);
    const guestSmall = await toGuest('guest-guest-small', SMALL_SIZE, SMALL_COUNT);

    // RTT: the guest pings the host's address on the bridge.
    const pingCon = await ControlClient.connect(daemons.runDir);
    let pingText = '';
    const pingDone = new Promise((resolve) => { pingCon.once('end', resolve); pingCon.once('close', resolve); });
    pingCon.on('output', (b) => { pingText += b.toString('utf8'); });
    await pingCon.request('create', { settings: settings('net-ping', `mode=ping ip=10.97.0.2 peer=${HOST_IP} count=${PINGS}`, bridged(4)), console: true });
    await pingDone;
    pingCon.close();
    const rtt = guestReport(pingText, 'ping');
    if (rtt === null) throw new Error(`ping: ${pingText.trim().split('\n').slice(-3).join(' | ')}`);
    log(`ping: p50 ${rtt.rtt_p50_us} µs, p99 ${rtt.rtt_p99_us} µs (veth: ${veth.rtt_p50_us} / ${veth.rtt_p99_us})`);

    const bulkMbps = hostBulk.host.mbps;
    const result = {
      bulk_mbps_guest_host: bulkMbps,
      bulk_vs_veth: round(bulkMbps / veth.bulk_mbps, 3),
      bulk_mbps_guest_guest: guestBulk.receiver.mbps,
      guest_guest_vs_veth: round(guestBulk.receiver.mbps / veth.bulk_mbps, 3),
      small_pps_guest_host: hostSmall.host.pps,
      small_vs_veth: round(hostSmall.host.pps / veth.small_pps, 3),
      small_pps_guest_guest: guestSmall.receiver.pps,
      rtt_p50_us: rtt.rtt_p50_us,
      rtt_p99_us: rtt.rtt_p99_us,
      exits_per_packet: hostBulk.counters?.exits_per_packet ?? null,
      exits_per_packet_small: hostSmall.counters?.exits_per_packet ?? null,
      dom0_cpu_us_per_packet: hostBulk.counters?.dom0_cpu_us_per_packet ?? null,
      dom0_cpu_us_per_packet_small: hostSmall.counters?.dom0_cpu_us_per_packet ?? null,
      loss: {
        guest_host_bulk: hostBulk.host.lost, guest_host_small: hostSmall.host.lost,
        guest_guest_bulk: guestBulk.receiver.lost, guest_guest_small: guestSmall.receiver.lost,
      },
      targets: TARGETS,
      veth,
      workload: {
        bulk: `${BULK_COUNT} UDP datagrams of ${BULK_SIZE} bytes (1514-byte frames), unpaced`,
        small: `${SMALL_COUNT} UDP datagrams of ${SMALL_SIZE} bytes (64-byte frames with FCS), unpaced`,
        rtt: `${PINGS} ICMP echo requests from the guest to the host's bridge address, one at a time`,
        throughput: 'as the receiver counts it, first to last datagram (lost datagrams are not counted)',
        exits_per_packet: "user-space exits plus the frontend's notifications (in-kernel ioeventfd exits) over the sender's window, per datagram sent",
      },
      phases: { guest_host_bulk: hostBulk, guest_host_small: hostSmall, guest_guest_bulk: guestBulk, guest_guest_small: guestSmall, ping: rtt },
    };
    result.summary = `bulk_vs_veth ${result.bulk_vs_veth} (guest→host ${bulkMbps} Mb/s ÷ veth ${veth.bulk_mbps}); ` +
      `small ${result.small_pps_guest_host} pps = ${result.small_vs_veth}× veth; RTT p50 ${rtt.rtt_p50_us} µs; ` +
      `exits/packet ${result.exits_per_packet} (target ≤ ${TARGETS.exits_per_packet}); dom0 ${result.dom0_cpu_us_per_packet} µs/packet`;
    return result;
  } finally {
    if (daemons !== null) await daemons.down();
    removeQuietly('link', BRIDGE);
    rmSync(scratch, { recursive: true, force: true });
  }
}
