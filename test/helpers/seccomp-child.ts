// seccomp-child.ts: run by seccomp-filter.test.ts in a process of its own — installs a filter
// (with a worker thread already running), then reports, as JSON on stdout, what each thread's
// /proc status says and how some system calls fare.
import { Worker } from 'node:worker_threads';
import { readdirSync, readFileSync } from 'node:fs';
import { libc, errno } from '../../host/libc.ts';
import { buildFilter, installFilter } from '../../host/seccomp.ts';
import { baselinePolicy } from '../../host/confine-baseline.ts';
import { SYSCALLS_X86_64 as NR } from '../../host/syscalls-x86_64.ts';

const AF_UNIX = 1;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const PR_SET_NO_NEW_PRIVS = 38;
const SYS_GETPID = 39;
const long = (v: number): unknown[] => ['int64_t', BigInt(v)];
const call = (nr: number, ...args: number[]): number | string => {
  const r = libc.syscall(nr, ...args.flatMap(long));
  return r < 0 ? `errno ${errno()}` : r;
};

/** Each thread's Seccomp and NoNewPrivs lines. */
function threads(): { seccomp: string; nnp: string }[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const s = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    return { seccomp: /^Seccomp:\s*(\d)/m.exec(s)![1]!, nnp: /^NoNewPrivs:\s*(\d)/m.exec(s)![1]! };
  });
}

const idle = (): Worker => new Worker('setInterval(() => {}, 1000)', { eval: true });
const before = idle();
await new Promise((r) => before.once('online', r));
libc.prctl(PR_SET_NO_NEW_PRIVS, 'unsigned long', 1, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0);
installFilter(buildFilter(baselinePolicy(['execve'], [AF_UNIX])));
const after = idle();
await new Promise((r) => after.once('online', r));
const report = {
  threads: threads(),
  getpid: call(SYS_GETPID) === process.pid,
  personality: call(NR.personality, 0xffffffff),
  clone3: call(NR.clone3, 0, 0),
  socketInet: call(NR.socket, AF_INET, SOCK_DGRAM, 0),
  socketUnix: typeof call(NR.socket, AF_UNIX, SOCK_DGRAM, 0),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
await before.terminate();
await after.terminate();
