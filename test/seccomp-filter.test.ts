// seccomp-filter.test.ts: the seccomp filters host/seccomp.ts builds — each daemon policy's
// verdicts through a BPF interpreter, the syscall numbers against the kernel's header, and a
// filter installed for real in a child process: every thread covered (TSYNC), refusals EPERM.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildFilter, encodeFilter, type BpfInsn, type SeccompPolicy } from '../host/seccomp.ts';
import { SYSCALLS_X86_64 } from '../host/syscalls-x86_64.ts';
import { BASELINE_DENY } from '../host/confine-baseline.ts';
import { HYPERVISOR_CONFINEMENT } from '../hypervisor/daemon/confinement-policy.ts';
import { DOM0_CONFINEMENT } from '../dom0/confinement-policy.ts';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;

/** Run a classic-BPF seccomp program over one struct seccomp_data (nr, arch, args[0]). */
function verdict(prog: readonly BpfInsn[], nr: number, arch = X86_64, arg0 = 0): number {
  const data = new DataView(new ArrayBuffer(64));
  data.setInt32(0, nr, true);
  data.setUint32(4, arch, true);
  data.setBigUint64(16, BigInt(arg0), true);
  let a = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    if (code === 0x20) a = data.getUint32(k, true);
    else if (code === 0x06) return k >>> 0;
    else if (code === 0x15) pc += a === k ? jt : jf;
    else if (code === 0x35) pc += a >>> 0 >= k >>> 0 ? jt : jf;
    else if (code === 0x45) pc += (a & k) !== 0 ? jt : jf;
    else throw new Error(`unexpected opcode ${code}`);
  }
  throw new Error('fell off the end of the program');
}

const policies: [string, SeccompPolicy][] = [['hypervisor', HYPERVISOR_CONFINEMENT.seccomp], ['dom0', DOM0_CONFINEMENT.seccomp]];

t.test('each policy refuses what it lists and allows the rest', async (t) => {
  for (const [name, policy] of policies) {
    const prog = buildFilter(policy);
    t.equal(encodeFilter(prog).length, prog.length * 8, `${name}: 8 bytes an instruction`);
    for (const s of policy.deny) t.equal(verdict(prog, SYSCALLS_X86_64[s]), EPERM, `${name}: ${s} refused`);
    for (const nr of [0, 1, 9, 16, 39, 202, 232, 319]) t.equal(verdict(prog, nr), ALLOW, `${name}: syscall ${nr} allowed`);
    t.equal(verdict(prog, 0, I386), EPERM, `${name}: a 32-bit system call is refused`);
    t.equal(verdict(prog, 0x40000000 | 1), EPERM, `${name}: an x32 system call is refused`);
    t.equal(verdict(prog, SYSCALLS_X86_64.clone3), ENOSYS, `${name}: clone3 says ENOSYS (libc falls back to clone)`);
    // glibc's pthread_create and fork flags.
    t.equal(verdict(prog, SYSCALLS_X86_64.clone, X86_64, 0x003d0f00), ALLOW, `${name}: clone for a thread allowed`);
    t.equal(verdict(prog, SYSCALLS_X86_64.clone, X86_64, 0x01200011), ALLOW, `${name}: clone for fork allowed`);
    for (const ns of [0x00020000, 0x10000000, 0x40000000]) {
      t.equal(verdict(prog, SYSCALLS_X86_64.clone, X86_64, 0x01200011 | ns), EPERM, `${name}: clone with namespace flag ${ns.toString(16)} refused`);
    }
  }
  const hv = buildFilter(HYPERVISOR_CONFINEMENT.seccomp);
  t.equal(verdict(hv, SYSCALLS_X86_64.socket, X86_64, 1), ALLOW, 'hypervisor: AF_UNIX sockets');
  for (const fam of [2, 10, 16, 17]) t.equal(verdict(hv, SYSCALLS_X86_64.socket, X86_64, fam), EPERM, `hypervisor: no family ${fam} sockets`);
  t.equal(verdict(hv, SYSCALLS_X86_64.execve), EPERM, 'hypervisor: starts no program');
  const d0 = buildFilter(DOM0_CONFINEMENT.seccomp);
  t.equal(verdict(d0, SYSCALLS_X86_64.socket, X86_64, 16), ALLOW, 'dom0 (and its `ip`): netlink sockets');
  t.equal(verdict(d0, SYSCALLS_X86_64.execve), ALLOW, 'dom0 runs `ip`');
  t.ok(HYPERVISOR_CONFINEMENT.keepCapabilities.every((c) => DOM0_CONFINEMENT.keepCapabilities.includes(c)),
    "the hypervisor's capabilities are a subset of dom0's (else the kernel refuses dom0's vcpu-pin of its threads)");
  t.ok(BASELINE_DENY.every((s) => DOM0_CONFINEMENT.seccomp.deny.includes(s) && HYPERVISOR_CONFINEMENT.seccomp.deny.includes(s)), 'both include the baseline');
});

t.test('syscall numbers match the kernel header', async (t) => {
  const header = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
  t.ok(existsSync(header), `${header} (linux-libc-dev) is installed`);
  if (!existsSync(header)) return;
  const text = readFileSync(header, 'utf8');
  for (const [name, nr] of Object.entries(SYSCALLS_X86_64)) {
    t.equal(Number(new RegExp(`^#define __NR_${name} (\\d+)$`, 'm').exec(text)?.[1]), nr, name);
  }
});

t.test('an installed filter covers every thread and refuses with EPERM', async (t) => {
  const child = fileURLToPath(new URL('./helpers/seccomp-child.ts', import.meta.url));
  const execArgv = process.execArgv.filter((a) => !a.includes('processinfo'));
  const r = spawnSync(process.execPath, [...execArgv, child], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { threads: { seccomp: string; nnp: string }[]; getpid: boolean; personality: unknown; clone3: unknown; socketInet: unknown; socketUnix: unknown };
  t.ok(report.threads.length >= 3, `${report.threads.length} threads`);
  t.same(report.threads.filter((x) => x.seccomp !== '2' || x.nnp !== '1'), [], 'every thread, including one started before, is filtered and has no_new_privs');
  t.equal(report.getpid, true, 'allowed calls work');
  t.equal(report.personality, 'errno 1', 'a denied call fails with EPERM');
  t.equal(report.clone3, 'errno 38', 'clone3: ENOSYS');
  t.equal(report.socketInet, 'errno 1', 'a socket family outside the list: EPERM');
  t.equal(report.socketUnix, 'number', 'AF_UNIX sockets still open');
});
