// native-insn.ts: run single instructions on the host CPU — a C helper built at test time loads a
// given FXSAVE image, registers and operand memory, executes the instruction's bytes, and reports
// what the CPU left (or which signal its exception became). The emulator's fuzz tests compare
// against it.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Bytes of operand memory; the instruction's memory operand is [rdi] = &mem[memOffset]. */
export const NATIVE_MEM = 64;

export interface NativeInput {
  /** Index into the instruction list the helper was built with. */
  readonly insn: number;
  readonly memOffset: number;
  readonly rax: bigint;
  readonly rcx: bigint;
  readonly rdx: bigint;
  /** Only CF PF AF ZF SF OF are taken; IF stays set. */
  readonly rflags: bigint;
  /** The 512-byte FXSAVE image (x87, MXCSR, XMM0–15) the instruction starts from. */
  readonly fx: Uint8Array;
  readonly mem: Uint8Array;
}

export type NativeSignal = 'none' | 'SIGFPE' | 'SIGSEGV' | 'SIGILL' | 'SIGBUS';

export interface NativeOutput {
  readonly signal: NativeSignal;
  readonly rax: bigint;
  readonly rcx: bigint;
  readonly rdx: bigint;
  readonly rflags: bigint;
  /** After the instruction (FXSAVE), or at the exception (the signal frame's FPU state). */
  readonly fx: Uint8Array;
  readonly mem: Uint8Array;
}

const RECORD = 4 + 4 + 8 * 4 + 512 + NATIVE_MEM;
const SIGNALS: Record<number, NativeSignal> = { 0: 'none', 8: 'SIGFPE', 11: 'SIGSEGV', 4: 'SIGILL', 7: 'SIGBUS' };

/** The helper's source: one stub per instruction, each between a state load and a state save. */
function source(insns: readonly Uint8Array[]): string {
  const stubs = insns.map((b, i) => `STUB(${i}, ".byte ${[...b].map((x) => `0x${x.toString(16)}`).join(',')}")`);
  return `#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
struct io { uint32_t insn, memoff; uint64_t rax, rcx, rdx, rflags; uint8_t fx[512]; uint8_t mem[${NATIVE_MEM}]; };
struct st { uint8_t fx[512]; uint64_t rax, rcx, rdx, rflags, rdi; };
struct st S __attribute__((aligned(64)));
uint8_t MEM[${NATIVE_MEM}] __attribute__((aligned(64)));
static sigjmp_buf jb;
static volatile int sig;
static uint8_t sigfx[512];
static const uint32_t MXCSR_DEFAULT = 0x1f80;
static void handler(int s, siginfo_t *si, void *p) {
  (void)si;
  ucontext_t *uc = p;
  sig = s;
  if (uc->uc_mcontext.fpregs) memcpy(sigfx, uc->uc_mcontext.fpregs, 512);
  siglongjmp(jb, 1);
}
#define STUB(n, bytes) static void stub##n(void) { __asm__ volatile( \\
  "fxrstor S(%%rip)\\n mov S+512(%%rip), %%rax\\n mov S+520(%%rip), %%rcx\\n" \\
  "mov S+528(%%rip), %%rdx\\n mov S+544(%%rip), %%rdi\\n pushq S+536(%%rip)\\n popfq\\n" \\
  bytes "\\n" \\
  "pushfq\\n popq S+536(%%rip)\\n mov %%rax, S+512(%%rip)\\n mov %%rcx, S+520(%%rip)\\n" \\
  "mov %%rdx, S+528(%%rip)\\n fxsave S(%%rip)\\n" \\
  ::: "rax", "rcx", "rdx", "rdi", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", \\
  "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"); }
${stubs.join('\n')}
static void (*const stubs[])(void) = { ${insns.map((_, i) => `stub${i}`).join(', ')} };
int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGFPE, &sa, 0); sigaction(SIGSEGV, &sa, 0); sigaction(SIGILL, &sa, 0); sigaction(SIGBUS, &sa, 0);
  static struct io in, out;
  while (fread(&in, sizeof in, 1, stdin) == 1) {
    memcpy(S.fx, in.fx, 512);
    S.rax = in.rax; S.rcx = in.rcx; S.rdx = in.rdx; S.rflags = (in.rflags & 0x8d5) | 0x202;
    memcpy(MEM, in.mem, sizeof MEM);
    S.rdi = (uint64_t)(uintptr_t)(MEM + in.memoff);
    sig = 0;
    if (sigsetjmp(jb, 1) == 0) { stubs[in.insn](); memcpy(out.fx, S.fx, 512); }
    else memcpy(out.fx, sigfx, 512);
    __asm__ volatile("fninit\\n ldmxcsr %0" :: "m"(MXCSR_DEFAULT));
    out.insn = (uint32_t)sig; out.memoff = 0;
    out.rax = S.rax; out.rcx = S.rcx; out.rdx = S.rdx; out.rflags = S.rflags;
    memcpy(out.mem, MEM, sizeof MEM);
    fwrite(&out, sizeof out, 1, stdout);
  }
  return 0;
}
`;
}

/** Why the helper cannot be built here (no gcc, not x86-64), or null. */
export function nativeUnavailable(): string | null {
  if (process.arch !== 'x64') return 'the native oracle runs on x86-64 hosts only';
  const r = spawnSync('gcc', ['--version']);
  return r.error === undefined && r.status === 0 ? null : 'gcc is not installed';
}

/** Build the helper for `insns` and run every input through it (one process, one batch). */
export function runNative(insns: readonly Uint8Array[], inputs: readonly NativeInput[]): NativeOutput[] {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-native-'));
  try {
    writeFileSync(join(dir, 'native.c'), source(insns));
    execFileSync('gcc', ['-O1', '-o', join(dir, 'native'), join(dir, 'native.c')]);
    const buf = Buffer.alloc(inputs.length * RECORD);
    inputs.forEach((c, i) => {
      const o = i * RECORD;
      buf.writeUInt32LE(c.insn, o);
      buf.writeUInt32LE(c.memOffset, o + 4);
      [c.rax, c.rcx, c.rdx, c.rflags].forEach((v, k) => buf.writeBigUInt64LE(BigInt.asUintN(64, v), o + 8 + k * 8));
      buf.set(c.fx.subarray(0, 512), o + 40);
      buf.set(c.mem.subarray(0, NATIVE_MEM), o + 552);
    });
    const out = execFileSync(join(dir, 'native'), { input: buf, maxBuffer: buf.length + 1024 });
    if (out.length !== buf.length) throw new Error(`native helper returned ${out.length} bytes for ${buf.length}`);
    return inputs.map((_, i) => {
      const o = i * RECORD;
      return {
        signal: SIGNALS[out.readUInt32LE(o)] ?? 'SIGILL',
        rax: out.readBigUInt64LE(o + 8), rcx: out.readBigUInt64LE(o + 16), rdx: out.readBigUInt64LE(o + 24),
        rflags: out.readBigUInt64LE(o + 32),
        fx: new Uint8Array(out.subarray(o + 40, o + 552)), mem: new Uint8Array(out.subarray(o + 552, o + RECORD)),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
