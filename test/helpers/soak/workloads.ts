// workloads.ts: what a soak run keeps doing — verified disk I/O (blkwork), UDP echoes between
// guests on dom0's internal switch (network), console traffic both ways (console-echo with a
// client attaching and detaching, conflood), and create/destroy churn of guests with a disk and
// a vif — and how each outcome is counted as work done or as an I/O error.
import { ControlClient } from '../../../cli/control-client.ts';
import { xenOuiMac } from '../../../abi/domain-settings.ts';
import { guestPath } from '../run-guest.ts';
import { createDomain, describeEnd, poweredOff, testResult, type SoakDomain, type SoakSettings } from './domain.ts';
import type { Gate } from './gate.ts';

/** The internal-switch subnet the run's guests live on. */
export const SUBNET = '10.0.77';
export const RESPONDER_IP = `${SUBNET}.2`;
/**
 * The guests' own waits, far above their defaults (blkwork 30 s per request, network 60 s for its
 * vif): on a host busy with other work a guest may get little CPU for a long while, and a soak
 * run is about what breaks, not about how fast it goes.
 */
const IO_WAIT_MS = 180_000;
export const VIF_WAIT_S = 180;

export interface SoakCounts {
  guests: number;
  cycles: number;
  disk_runs: number;
  disk_verified_ops: number;
  net_runs: number;
  net_echoes: number;
  net_lost: number;
  console_sessions: number;
  console_flood_runs: number;
  console_flood_bytes: number;
  /** Flood runs whose outcome dom0 dropped for this (lagging) client: neither passed nor failed. */
  console_flood_unverified: number;
  io_errors: number;
}

export const zeroCounts = (): SoakCounts => ({
  guests: 0, cycles: 0, disk_runs: 0, disk_verified_ops: 0, net_runs: 0, net_echoes: 0, net_lost: 0,
  console_sessions: 0, console_flood_runs: 0, console_flood_bytes: 0, console_flood_unverified: 0, io_errors: 0,
});

export interface WorkloadContext {
  readonly runDir: string;
  readonly gate: Gate;
  readonly counts: SoakCounts;
  /** Life limit of one guest (it is destroyed after that and counted as an error). */
  readonly guestLimitMs: number;
  /** Record an I/O error (verification failure, guest-reported error, unexpected death). */
  error(what: string): void;
}

/** The last lines of a guest's output (but conflood's numbered filler), for an error message. */
const tail = (out: string): string => out.trim().split('\n').filter((l) => !l.startsWith('conflood line ')).slice(-6).join(' | ');

/** Create a guest and count it; a resident has no life limit. */
export async function launch(ctx: WorkloadContext, s: SoakSettings, resident = false): Promise<SoakDomain> {
  ctx.counts.guests++;
  return createDomain(ctx.runDir, s, resident ? null : ctx.guestLimitMs);
}

/** A guest that should power off by itself with `Test result: SUCCESS`; false (and an error) if not. */
async function ranClean(ctx: WorkloadContext, d: SoakDomain, label: string): Promise<string | null> {
  const end = await d.ended;
  const out = d.fullOutput();
  const result = testResult(out);
  if (poweredOff(end) && result === 'SUCCESS') return out;
  ctx.error(`${label}: ${describeEnd(end)}, test result ${result ?? 'none'}: ${tail(out)}`);
  return null;
}

/**
 * A workload loop: body(i) for i = 0, 1, … each time through the gate, until the run stops.
 * `iterations[key]` counts finished bodies (the warm-up waits for every loop to finish one).
 */
export async function loop(ctx: WorkloadContext, label: string, iterations: Map<string, number>, body: (i: number) => Promise<void>): Promise<void> {
  iterations.set(label, 0);
  for (let i = 0; await ctx.gate.enter(); i++) {
    try {
      await body(i);
    } catch (e) {
      ctx.error(`${label} #${i}: ${(e as Error).message}`);
    } finally {
      iterations.set(label, (iterations.get(label) ?? 0) + 1);
      ctx.gate.leave();
    }
  }
}

/** One blkwork random run (reads verify every block it wrote; a final pass re-reads all) on `image`. */
export async function diskRun(ctx: WorkloadContext, slot: number, i: number, image: string, ops: number): Promise<void> {
  const d = await launch(ctx, {
    name: `soak-disk${slot}-${i}`, kernel: guestPath('blkwork'), cmdline: `mode=random size=4M qd=4 ops=${ops} seed=${i + 1} timeout_ms=${IO_WAIT_MS}`,
    disks: [{ target: image, vdev: 'xvda', access: 'rw' }],
  });
  const out = await ranClean(ctx, d, d.name);
  if (out === null) return;
  const m = /^blkwork: random ops=(\d+) .* ok$/m.exec(out);
  if (!m) return ctx.error(`${d.name}: no verified random line: ${tail(out)}`);
  ctx.counts.disk_runs++;
  ctx.counts.disk_verified_ops += Number(m[1]);
}

/**
 * One udp-ping run against the resident responder: every echo is compared byte for byte; a
 * corrupted one (`seq=N: -5`) is an error, one that did not come back within the guest's 1 s is
 * a loss (counted apart: on a loaded host that is a matter of timing, not of correctness).
 */
export async function netRun(ctx: WorkloadContext, slot: number, i: number, count: number): Promise<void> {
  const ip = `${SUBNET}.${10 + slot}`;
  const size = [64, 512, 1000, 1472][i % 4]!;
  const d = await launch(ctx, {
    name: `soak-net${slot}-${i}`, kernel: guestPath('network'),
    cmdline: `mode=udp-ping ip=${ip} peer=${RESPONDER_IP} count=${count} size=${size} vif_wait=${VIF_WAIT_S}`,
    // One MAC per address: the responder's ARP cache never holds a stale one.
    vifs: [{ mac: xenOuiMac(`soak-net${slot}`, 0) }],
  });
  const end = await d.ended;
  const out = d.fullOutput();
  const report = /^net: udp-ping sent=(\d+) received=(\d+) lost=(\d+)/m.exec(out);
  const corrupt = [...out.matchAll(/^net: udp-ping seq=\d+: -5$/gm)].length;
  const result = testResult(out);
  if (!poweredOff(end) || report === null || Number(report[2]) === 0 || corrupt > 0 || (result !== 'SUCCESS' && result !== 'FAILURE')) {
    return ctx.error(`${d.name}: ${describeEnd(end)}, ${corrupt} corrupted echoes, result ${result ?? 'none'}: ${tail(out)}`);
  }
  ctx.counts.net_runs++;
  ctx.counts.net_echoes += Number(report[2]);
  ctx.counts.net_lost += Number(report[3]);
}

/** Attach a console client to the resident console-echo guest, exchange a line, detach. */
export async function consoleSession(ctx: WorkloadContext, domain: string, i: number): Promise<void> {
  const c = await ControlClient.connect(ctx.runDir);
  try {
    let out = '';
    const tag = `soak-line-${i}-${'x'.repeat(i % 100)}`;
    const got = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 60_000);
      c.on('output', (b) => { out += b.toString('latin1'); if (out.includes(`got: ${tag}\n`)) { clearTimeout(timer); resolve(true); } });
      c.on('close', () => { clearTimeout(timer); resolve(false); });
    });
    await c.request('console', { domain, backlog: false });
    c.input(Buffer.from(`${tag}\n`));
    if (!await got) return ctx.error(`console session ${i}: no echo of its line: ${tail(out)}`);
    ctx.counts.console_sessions++;
  } finally {
    c.close();
  }
}

/** One conflood run: `mib` MiB of console output as fast as dom0 takes it, streamed to us. */
export async function floodRun(ctx: WorkloadContext, slot: number, i: number, mib: number): Promise<void> {
  const d = await launch(ctx, { name: `soak-flood${slot}-${i}`, kernel: guestPath('conflood'), cmdline: `mib=${mib}` });
  const end = await d.ended;
  const streamed = d.out();
  const logged = d.fullOutput();
  // dom0 drops output for a client that lags (with a marker line), and its log file has a bounded
  // write queue too: a run whose result line neither kept, with the marker, is unverified, not failed.
  const out = testResult(streamed) !== undefined ? streamed : logged;
  if (poweredOff(end) && testResult(out) === undefined && streamed.includes('bytes of console output dropped')) {
    ctx.counts.console_flood_unverified++;
    return;
  }
  if (!poweredOff(end) || testResult(out) !== 'SUCCESS') return ctx.error(`${d.name}: ${describeEnd(end)}, test result ${testResult(out) ?? 'none'}: ${tail(out)}`);
  const m = /^conflood: wrote (\d+) bytes$/m.exec(out);
  if (!m) return ctx.error(`${d.name}: no byte count: ${tail(out)}`);
  ctx.counts.console_flood_runs++;
  ctx.counts.console_flood_bytes += Number(m[1]);
}

/**
 * One create/destroy cycle of a short-lived guest with a disk and a vif, three kinds in turn: a
 * network guest pinging the responder (its disk left unused) and a blkwork run (its vif unused),
 * both ending by themselves, and a network responder destroyed while its vif is connected.
 */
export async function churnCycle(ctx: WorkloadContext, lane: number, i: number, image: string): Promise<void> {
  const kind = i % 3;
  const name = `soak-churn${lane}-${i}`;
  const disks = [{ target: image, vdev: 'xvda', access: 'rw' as const }];
  const vifs = [{ mac: xenOuiMac(`soak-churn${lane}-${kind}`, 0) }];
  ctx.counts.cycles++;
  if (kind === 0) {
    // It pings until the responder answers, then 3 more, each given 1 s: one of those not
    // answered in time is a loss (as in netRun), not an error.
    const d = await launch(ctx, { name, kernel: guestPath('network'), cmdline: `mode=ping ip=${SUBNET}.${100 + lane} peer=${RESPONDER_IP} count=3 vif_wait=${VIF_WAIT_S}`, disks, vifs });
    const end = await d.ended;
    const out = d.fullOutput();
    const report = /^net: ping sent=(\d+) received=(\d+) lost=(\d+)/m.exec(out);
    const result = testResult(out);
    if (!poweredOff(end) || report === null || (result !== 'SUCCESS' && result !== 'FAILURE')) {
      return ctx.error(`${name}: ${describeEnd(end)}, result ${result ?? 'none'}: ${tail(out)}`);
    }
    ctx.counts.net_lost += Number(report[3]);
  } else if (kind === 1) {
    const d = await launch(ctx, { name, kernel: guestPath('blkwork'), cmdline: `mode=random size=1M qd=2 ops=100 seed=${i + 1} timeout_ms=${IO_WAIT_MS}`, disks, vifs });
    await ranClean(ctx, d, name);
  } else {
    const d = await launch(ctx, { name, kernel: guestPath('network'), cmdline: `mode=responder ip=${SUBNET}.${150 + lane} vif_wait=${VIF_WAIT_S}`, disks, vifs });
    const up = await d.waitFor(/^net: responder on port/m, 120_000) !== null;
    const c = await ControlClient.connect(ctx.runDir);
    try {
      await c.request('destroy', { domain: String(d.domid) }).catch(() => undefined);
    } finally {
      c.close();
    }
    const end = await d.ended;
    const out = d.fullOutput();
    if (!up) ctx.error(`${name}: the responder never came up (${describeEnd(end)}): ${tail(out)}`);
    else if (end.how !== 'ended' || end.end.kind !== 'destroyed') ctx.error(`${name}: ended as ${describeEnd(end)} before it was destroyed: ${tail(out)}`);
  }
}
