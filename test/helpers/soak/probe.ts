// probe.ts: one reading of a process's open fds, resident memory and threads from /proc — what a
// soak run watches in both daemons.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessReading {
  readonly fds: number;
  readonly rssKiB: number;
  readonly threads: number;
  /** CPU time used so far (user + system, ms): how busy the daemon was between two readings. */
  readonly cpuMs: number;
}

export function readProcess(pid: number): ProcessReading {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  // utime and stime, fields 14 and 15 of /proc/PID/stat, in clock ticks (100 a second on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = (Number(f[11]) + Number(f[12])) * 10;
  return { fds: readdirSync(`/proc/${pid}/fd`).length, rssKiB: field('VmRSS'), threads: field('Threads'), cpuMs };
}

export interface DaemonReadings {
  readonly hypervisor: ProcessReading;
  readonly dom0: ProcessReading;
}

export function readDaemons(pids: { hypervisor: number; dom0: number }): DaemonReadings {
  return { hypervisor: readProcess(pids.hypervisor), dom0: readProcess(pids.dom0) };
}

/**
 * Read until two readings 250 ms apart agree on fds and threads (a destroyed domain's teardown
 * finishes asynchronously), or `ms` pass; returns the last reading.
 */
export async function settledReadings(pids: { hypervisor: number; dom0: number }, ms = 15_000): Promise<DaemonReadings> {
  const deadline = Date.now() + ms;
  let last = readDaemons(pids);
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = readDaemons(pids);
    const same = (['hypervisor', 'dom0'] as const).every((k) => now[k].fds === last[k].fds && now[k].threads === last[k].threads);
    if (same || Date.now() > deadline) return now;
    last = now;
  }
}
