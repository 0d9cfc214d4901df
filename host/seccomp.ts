// seccomp.ts: classic-BPF seccomp filters built from a deny-list policy, and their installation
// on every thread of this process at once (SECCOMP_FILTER_FLAG_TSYNC).
import { libc, errno, mapAnonymous, HostError } from './libc.ts';
import { SYSCALLS_X86_64, type SyscallName } from './syscalls-x86_64.ts';

/** What a daemon may not do; everything else is allowed. Refusals answer an errno, never kill. */
export interface SeccompPolicy {
  /** System calls refused with EPERM. */
  readonly deny: readonly SyscallName[];
  /**
   * clone() with any of these flag bits set (namespace creation) is refused with EPERM. clone3
   * passes its flags in memory a filter cannot read, so it then answers ENOSYS and libc falls
   * back to clone() (glibc does for threads and for fork).
   */
  readonly denyCloneFlags?: number;
  /** When set, socket() for any other address family is refused with EPERM. */
  readonly socketFamilies?: readonly number[];
}

/** The namespace bits of clone()'s flags (CLONE_NEWTIME is not one: its bit is CSIGNAL's there). */
export const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

export const EPERM = 1;
export const ENOSYS = 38;
const AUDIT_ARCH_X86_64 = 0xc000003e;
/** x32 system calls are x86_64 numbers with this bit set: refused wholesale. */
const X32_SYSCALL_BIT = 0x40000000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
// struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6].
const DATA_NR = 0;
const DATA_ARCH = 4;
const DATA_ARG0_LOW = 16;
// BPF opcodes.
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
const SYS_SECCOMP = 317;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;
/** The kernel's limit on one filter's length (BPF_MAXINSNS). */
const MAX_INSNS = 4096;

export interface BpfInsn { code: number; jt: number; jf: number; k: number }

const stmt = (code: number, k: number): BpfInsn => ({ code, jt: 0, jf: 0, k });
const jump = (code: number, k: number, jt: number, jf: number): BpfInsn => ({ code, jt, jf, k });
const refuse = (e: number): BpfInsn => stmt(RET_K, SECCOMP_RET_ERRNO | (e & 0xffff));
const allow = (): BpfInsn => stmt(RET_K, SECCOMP_RET_ALLOW);

/**
 * The filter for `policy`: a foreign architecture or an x32 call is refused, then each denied
 * number is compared in turn (a linear list: a few dozen entries cost well under a microsecond).
 */
export function buildFilter(policy: SeccompPolicy): BpfInsn[] {
  const p: BpfInsn[] = [
    stmt(LD_W_ABS, DATA_ARCH), jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0), refuse(EPERM),
    stmt(LD_W_ABS, DATA_NR), jump(JGE_K, X32_SYSCALL_BIT, 0, 1), refuse(EPERM),
  ];
  for (const name of new Set(policy.deny)) p.push(jump(JEQ_K, SYSCALLS_X86_64[name], 0, 1), refuse(EPERM));
  if (policy.denyCloneFlags !== undefined) {
    p.push(jump(JEQ_K, SYSCALLS_X86_64.clone3, 0, 1), refuse(ENOSYS));
    // The accumulator is reloaded with the flags: this block ends in a verdict either way.
    p.push(jump(JEQ_K, SYSCALLS_X86_64.clone, 0, 4), stmt(LD_W_ABS, DATA_ARG0_LOW),
      jump(JSET_K, policy.denyCloneFlags >>> 0, 0, 1), refuse(EPERM), allow());
  }
  if (policy.socketFamilies !== undefined) {
    const fams = policy.socketFamilies;
    p.push(jump(JEQ_K, SYSCALLS_X86_64.socket, 0, fams.length + 3), stmt(LD_W_ABS, DATA_ARG0_LOW));
    fams.forEach((f, i) => p.push(jump(JEQ_K, f, fams.length - i, 0)));
    p.push(refuse(EPERM), allow());
  }
  p.push(allow());
  if (p.length > MAX_INSNS) throw new RangeError(`seccomp filter of ${p.length} instructions is too long`);
  return p;
}

/** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k. */
export function encodeFilter(prog: readonly BpfInsn[]): Uint8Array {
  const out = new Uint8Array(prog.length * 8);
  const v = new DataView(out.buffer);
  prog.forEach((ins, i) => {
    v.setUint16(i * 8, ins.code, true);
    v.setUint8(i * 8 + 2, ins.jt);
    v.setUint8(i * 8 + 3, ins.jf);
    v.setUint32(i * 8 + 4, ins.k >>> 0, true);
  });
  return out;
}

/**
 * Install `prog` on every thread of this process (TSYNC), and on every thread and child started
 * later. Needs no_new_privs on the calling thread (or CAP_SYS_ADMIN). Throws HostError on refusal.
 */
export function installFilter(prog: readonly BpfInsn[]): void {
  const code = encodeFilter(prog);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; } then the filter itself.
  const mem = mapAnonymous(16 + code.length, 'mmap seccomp filter');
  try {
    const v = new DataView(mem.bytes.buffer, mem.bytes.byteOffset, 16);
    v.setUint16(0, prog.length, true);
    v.setBigUint64(8, mem.addr + 16n, true);
    mem.bytes.set(code, 16);
    const r = libc.syscall(SYS_SECCOMP, 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', SECCOMP_FILTER_FLAG_TSYNC, 'uint64_t', mem.addr);
    if (r < 0) throw new HostError('seccomp(SECCOMP_SET_MODE_FILTER)', errno());
    if (r > 0) throw new HostError(`seccomp TSYNC: thread ${r} has a filter of its own`, 0);
  } finally {
    libc.munmap(mem.ptr, 16 + code.length);
  }
}
