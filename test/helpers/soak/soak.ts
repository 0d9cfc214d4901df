// soak.ts: a soak run — real daemons in a private run directory, resident guests and workload
// loops (workloads.ts) for a bounded time, both daemons' fds, RSS and threads read at a warm-up
// point and at the end (each with no workload guest in flight) and periodically, and the verdict
// against small allowances. `npm run soak` (bench/soak.mjs) and test/soak.test.ts both run this.
import { copyFileSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../../../cli/control-client.ts';
import { logFile } from '../../../cli/daemons.ts';
import { xenOuiMac } from '../../../abi/domain-settings.ts';
import { startDaemons } from '../daemons.ts';
import { guestPath } from '../run-guest.ts';
import { describeEnd, type SoakDomain } from './domain.ts';
import { Gate } from './gate.ts';
import { Dom0Pinger } from './pinger.ts';
import { readDaemons, settledReadings, type DaemonReadings, type ProcessReading } from './probe.ts';
import {
  RESPONDER_IP, VIF_WAIT_S, churnCycle, consoleSession, diskRun, floodRun, launch, loop, netRun, zeroCounts,
  type SoakCounts, type WorkloadContext,
} from './workloads.ts';

export interface SoakOptions {
  /** How long the workloads run (the warm-up included); draining and teardown come on top. */
  readonly seconds: number;
  /** When the warm-up reading is taken (after every loop has finished one guest, at the earliest). */
  readonly warmupSeconds: number;
  readonly diskGuests: number;
  readonly netGuests: number;
  readonly floodGuests: number;
  readonly churnLanes: number;
  /** blkwork random operations per disk run; udp-ping echoes per net run; conflood MiB per run. */
  readonly diskOps: number;
  readonly netEchoes: number;
  readonly floodMiB: number;
  readonly sampleEveryMs: number;
  /** Longest a workload guest may live before it is destroyed and counted as an error; a drain waits that long (+15 s). */
  readonly guestLimitSeconds: number;
  readonly allowance: Allowance;
  /** Where to copy both daemons' logs when the run fails (they go with the run directory). */
  readonly keepLogsIn?: string;
  readonly log: (line: string) => void;
}

/**
 * What may grow between the warm-up and the end reading, per daemon, before the run fails.
 * fds and threads: none — every domain's fds and vCPU threads go with it, and both readings are
 * taken with the same resident guests and no other. RSS: V8's heaps grow and shrink on their own
 * schedule, so only a growth far beyond that (a leak of ~1 MiB per guest over hundreds of guests)
 * fails.
 */
export interface Allowance {
  readonly fds: number;
  readonly threads: number;
  readonly rssMiB: number;
}

export const DEFAULT_ALLOWANCE: Allowance = { fds: 0, threads: 0, rssMiB: 64 };

export interface SoakSample {
  /** Seconds since the workloads started. */
  readonly t: number;
  readonly phase: 'warm-up' | 'run' | 'end';
  /** Workload guests in flight when read (residents not counted). */
  readonly in_flight: number;
  /** The slowest toolstack ping dom0 answered since the previous sample (ms; reported, never checked). */
  readonly dom0_ping_max_ms: number;
  readonly hypervisor: ProcessReading;
  readonly dom0: ProcessReading;
}

interface Growth { fds: number; threads: number; rss_mib: number }

export interface SoakResult extends SoakCounts {
  seconds: number;
  /** The slowest toolstack ping of the run, and how many took over 5 s (reported, never checked). */
  dom0_ping_max_ms: number;
  dom0_pings_over_5s: number;
  fd_growth: number;
  rss_growth_mib: number;
  threads_growth: number;
  passed: boolean;
  /** Why it failed, one line each (empty when it passed). */
  failures: string[];
  /** The I/O errors' descriptions (the first 50). */
  errors: string[];
  allowance: Allowance;
  options: Omit<SoakOptions, 'log' | 'allowance' | 'keepLogsIn'>;
  daemons: { hypervisor: { warm: ProcessReading; end: ProcessReading; growth: Growth }; dom0: { warm: ProcessReading; end: ProcessReading; growth: Growth } };
  samples: SoakSample[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round1 = (x: number): number => Math.round(x * 10) / 10;

function growth(warm: ProcessReading, end: ProcessReading): Growth {
  return { fds: end.fds - warm.fds, threads: end.threads - warm.threads, rss_mib: round1((end.rssKiB - warm.rssKiB) / 1024) };
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  const d = await startDaemons();
  const counts = zeroCounts();
  const errors: string[] = [];
  const gate = new Gate();
  const ctx: WorkloadContext = {
    runDir: d.runDir, gate, counts, guestLimitMs: o.guestLimitSeconds * 1000,
    error(what) {
      counts.io_errors++;
      const line = `at ${round1((Date.now() - started) / 1000)} s: ${what}`;
      if (errors.length < 50) errors.push(line);
      o.log(`soak: I/O ERROR ${line}`);
    },
  };
  let passed = false;
  const pids = { hypervisor: d.pid('hypervisor'), dom0: d.pid('dom0') };
  const samples: SoakSample[] = [];
  const pinger = new Dom0Pinger();
  let pingClient: ControlClient | null = null;
  const sample = (r: DaemonReadings, p: SoakSample['phase']): void => {
    samples.push({ t: round1((Date.now() - started) / 1000), phase: p, in_flight: gate.inFlight, dom0_ping_max_ms: pinger.takePeriodMax(), ...r });
  };
  const sampler = setInterval(() => { try { sample(readDaemons(pids), 'run'); } catch { /* a daemon is gone: the end says so */ } }, o.sampleEveryMs);
  try {
    pingClient = await ControlClient.connect(d.runDir);
    pinger.start(pingClient);
    // Disk images, one per disk slot and churn lane (sparse; blkwork writes what it reads back).
    const image = (name: string): string => {
      const f = join(d.runDir, `${name}.img`);
      writeFileSync(f, '');
      truncateSync(f, 8 << 20);
      return f;
    };
    const diskImages = Array.from({ length: o.diskGuests }, (_, k) => image(`disk${k}`));
    const churnImages = Array.from({ length: o.churnLanes }, (_, k) => image(`churn${k}`));

    // Residents: a UDP/ICMP responder on the switch and a console echo, for the whole run.
    const residents: SoakDomain[] = [
      await launch(ctx, { name: 'soak-responder', kernel: guestPath('network'), cmdline: `mode=responder ip=${RESPONDER_IP} vif_wait=${VIF_WAIT_S}`, vifs: [{ mac: xenOuiMac('soak-responder', 0) }] }, true),
      await launch(ctx, { name: 'soak-echo', kernel: guestPath('console-echo'), cmdline: 'timeout_ms=86400000' }, true),
    ];
    let stopping = false;
    for (const r of residents) {
      void r.ended.then((e) => { if (!stopping) ctx.error(`resident ${r.name} ended during the run: ${describeEnd(e)}`); });
    }
    const upFor = 120_000;
    if (await residents[0]!.waitFor(/^net: responder on port/m, upFor) === null) throw new Error(`the responder did not come up: ${residents[0]!.out()}`);
    if (await residents[1]!.waitFor(/^echo ready/m, upFor) === null) throw new Error(`console-echo did not come up: ${residents[1]!.out()}`);
    o.log(`soak: daemons up (hypervisor ${pids.hypervisor}, dom0 ${pids.dom0}); residents up; ${o.diskGuests} disk, ${o.netGuests} net, ${o.floodGuests} console-flood guests, ${o.churnLanes} churn lane(s), console sessions; ${o.seconds} s`);

    const iterations = new Map<string, number>();
    const loops: Promise<void>[] = [];
    for (let k = 0; k < o.diskGuests; k++) loops.push(loop(ctx, `disk${k}`, iterations, (i) => diskRun(ctx, k, i, diskImages[k]!, o.diskOps)));
    for (let k = 0; k < o.netGuests; k++) loops.push(loop(ctx, `net${k}`, iterations, (i) => netRun(ctx, k, i, o.netEchoes)));
    for (let k = 0; k < o.floodGuests; k++) loops.push(loop(ctx, `flood${k}`, iterations, (i) => floodRun(ctx, k, i, o.floodMiB)));
    for (let k = 0; k < o.churnLanes; k++) loops.push(loop(ctx, `churn${k}`, iterations, (i) => churnCycle(ctx, k, i, churnImages[k]!)));
    loops.push(loop(ctx, 'console', iterations, async (i) => { await consoleSession(ctx, 'soak-echo', i); await sleep(250); }));

    // Warm-up: the time asked, and every loop through once (a churn lane through its three kinds).
    const runStart = Date.now();
    await sleep(o.warmupSeconds * 1000);
    const warmedUp = (): boolean => [...iterations].every(([label, n]) => n >= (label.startsWith('churn') ? 3 : 1));
    while (!warmedUp() && Date.now() - runStart < o.seconds * 1000) await sleep(500);
    if (!await gate.drain(o.guestLimitSeconds * 1000 + 15_000)) ctx.error('the warm-up drain timed out: a guest outlived its limit');
    const warm = await settledReadings(pids);
    sample(warm, 'warm-up');
    o.log(`soak: warm-up reading at ${round1((Date.now() - started) / 1000)} s after ${counts.guests} guests: ${JSON.stringify(warm)}`);
    gate.resume();

    const left = o.seconds * 1000 - (Date.now() - runStart);
    await sleep(Math.max(0, left));
    gate.stop();
    if (!await gate.drain(o.guestLimitSeconds * 1000 + 15_000)) ctx.error('the final drain timed out: a guest outlived its limit');
    await Promise.all(loops);
    const end = await settledReadings(pids);
    sample(end, 'end');
    clearInterval(sampler); // the series ends here: what follows is teardown
    o.log(`soak: end reading at ${round1((Date.now() - started) / 1000)} s after ${counts.guests} guests: ${JSON.stringify(end)}`);

    // The residents go last; then nothing may be left.
    stopping = true;
    const c = await ControlClient.connect(d.runDir);
    try {
      for (const r of residents) await c.request('destroy', { domain: String(r.domid) }).catch((e: Error) => ctx.error(`destroying ${r.name}: ${e.message}`));
      for (const r of residents) await r.ended;
      const left2 = await c.request<{ name: string }[]>('list');
      if (left2.length) ctx.error(`domains left after the run: ${left2.map((x) => x.name).join(', ')}`);
    } finally {
      c.close();
    }

    const hv = growth(warm.hypervisor, end.hypervisor);
    const d0 = growth(warm.dom0, end.dom0);
    const result: SoakResult = {
      seconds: Math.round((Date.now() - started) / 1000),
      ...counts,
      dom0_ping_max_ms: pinger.maxMs,
      dom0_pings_over_5s: pinger.slowCount,
      fd_growth: Math.max(hv.fds, d0.fds),
      rss_growth_mib: Math.max(hv.rss_mib, d0.rss_mib),
      threads_growth: Math.max(hv.threads, d0.threads),
      passed: false,
      failures: [],
      errors,
      allowance: o.allowance,
      options: {
        seconds: o.seconds, warmupSeconds: o.warmupSeconds, diskGuests: o.diskGuests, netGuests: o.netGuests,
        floodGuests: o.floodGuests, churnLanes: o.churnLanes, diskOps: o.diskOps, netEchoes: o.netEchoes,
        floodMiB: o.floodMiB, sampleEveryMs: o.sampleEveryMs, guestLimitSeconds: o.guestLimitSeconds,
      },
      daemons: { hypervisor: { warm: warm.hypervisor, end: end.hypervisor, growth: hv }, dom0: { warm: warm.dom0, end: end.dom0, growth: d0 } },
      samples,
    };
    for (const [name, g] of [['hypervisor', hv], ['dom0', d0]] as const) {
      if (g.fds > o.allowance.fds) result.failures.push(`${name}: ${g.fds} more open fds at the end than after the warm-up (allowed ${o.allowance.fds})`);
      if (g.threads > o.allowance.threads) result.failures.push(`${name}: ${g.threads} more threads (allowed ${o.allowance.threads})`);
      if (g.rss_mib > o.allowance.rssMiB) result.failures.push(`${name}: RSS grew by ${g.rss_mib} MiB (allowed ${o.allowance.rssMiB})`);
    }
    if (counts.io_errors > 0) result.failures.push(`${counts.io_errors} I/O error(s), the first: ${errors[0]}`);
    if (counts.disk_runs === 0 || counts.net_runs === 0 || counts.console_sessions === 0 || counts.cycles === 0) {
      result.failures.push('a workload never completed a run (see the counts)');
    }
    result.passed = result.failures.length === 0;
    passed = result.passed;
    return result;
  } finally {
    clearInterval(sampler);
    gate.stop();
    pingClient?.close();
    await pinger.stop();
    if (o.keepLogsIn !== undefined && (counts.io_errors > 0 || !passed)) {
      mkdirSync(o.keepLogsIn, { recursive: true });
      for (const kind of ['hypervisor', 'dom0'] as const) copyFileSync(logFile(d.runDir, kind), join(o.keepLogsIn, `${kind}.log`));
      o.log(`soak: the daemons' logs are in ${o.keepLogsIn}`);
    }
    await d.down();
  }
}
