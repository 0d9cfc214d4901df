// vcpu-threads.ts: a domain's vCPUs as host threads of the hypervisor daemon, found by the names
// it gives them (vcpu-dDOMIDvN): their CPU time (xl list's Time(s)) and their CPU affinity
// (xl's cpus= and vcpu-pin). dom0 runs as the same user, so Linux lets it read and pin them.
import { readdirSync, readFileSync } from 'node:fs';
import { libc, errno } from '../../host/libc.ts';

/** /proc's utime and stime are in USER_HZ, which Linux fixes at 100 for user space. */
const USER_HZ = 100;
/** cpu_set_t as glibc sizes it: 1024 CPUs. */
const CPU_SET_BYTES = 128;
export const MAX_HOST_CPUS = CPU_SET_BYTES * 8;

export interface VcpuThread { readonly vcpu: number; readonly tid: number }

/** The threads of domain `domid`'s vCPUs in hypervisor process `hvPid`, by vCPU number. */
export function vcpuThreads(hvPid: number, domid: number): VcpuThread[] {
  const found: VcpuThread[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${hvPid}/task`);
  } catch {
    return found;
  }
  const re = new RegExp(`^vcpu-d${domid}v(\\d+)$`);
  for (const tid of tasks) {
    try {
      const m = re.exec(readFileSync(`/proc/${hvPid}/task/${tid}/comm`, 'utf8').trim());
      if (m !== null) found.push({ vcpu: Number(m[1]), tid: Number(tid) });
    } catch { /* the thread ended meanwhile */ }
  }
  return found.sort((a, b) => a.vcpu - b.vcpu);
}

/** User plus system CPU seconds of one thread (0 if it is gone). */
export function threadCpuSeconds(pid: number, tid?: number): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the parenthesised name: state is field 3, utime 14 and stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / USER_HZ;
  } catch {
    return 0;
  }
}

/** Pin one thread to `cpus` (host CPU numbers); a one-line error on failure. */
export function pinThread(tid: number, cpus: readonly number[]): void {
  const mask = new Uint8Array(CPU_SET_BYTES);
  for (const c of cpus) mask[c >> 3]! |= 1 << (c & 7);
  if (libc.schedSetaffinity(tid, CPU_SET_BYTES, mask) !== 0) {
    const e = errno();
    throw new Error(`sched_setaffinity: ${libc.strerror(e)}${e === 22 ? ' (none of those CPUs is online)' : ''}`);
  }
}

/** The CPUs a thread may run on. */
export function threadAffinity(tid: number): number[] {
  const mask = new Uint8Array(CPU_SET_BYTES);
  if (libc.schedGetaffinity(tid, CPU_SET_BYTES, mask) !== 0) return [];
  const cpus: number[] = [];
  for (let c = 0; c < MAX_HOST_CPUS; c++) if ((mask[c >> 3]! & (1 << (c & 7))) !== 0) cpus.push(c);
  return cpus;
}
