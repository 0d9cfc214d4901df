// emulate-native.test.ts: every emulated SSE, MXCSR and x87 instruction, fuzzed, against the host CPU.
//
// A C helper built here runs each encoding natively (test/helpers/native-insn.ts); the emulator
// runs the same bytes from the same state on a plain-object vCPU. Registers, RFLAGS, MXCSR, the
// x87 control/status/tag words, XMM0–15 and operand memory must agree, and so must the exception
// (#XM ↔ SIGFPE, #GP ↔ SIGSEGV, #UD ↔ SIGILL). EMU_SEED and EMU_CASES vary the run.
import t from 'tap';
import { EMULATED } from '../hypervisor/vcpu/emulate/table.ts';
import { emulateInstruction, type EmuOutcome } from '../hypervisor/vcpu/emulate/emulator.ts';
import { XSTATE_BV } from '../hypervisor/vcpu/emulate/fpu-state.ts';
import type { InsnSpec } from '../hypervisor/vcpu/emulate/insn.ts';
import { FakeCpu, SCRATCH, fakeMemory } from './helpers/emu-cpu.ts';
import { Rng, encodingsOf, randomInput } from './helpers/emu-fuzz.ts';
import { NATIVE_MEM, nativeUnavailable, runNative, type NativeInput, type NativeOutput } from './helpers/native-insn.ts';

const SEED = Number(process.env.EMU_SEED ?? 20261207);
const CASES = Number(process.env.EMU_CASES ?? 40);
const X87 = new Set(['fnop', 'fwait', 'fnclex', 'fninit', 'fldcw', 'fnstcw', 'fnstsw', 'fnstsw ax']);
/** Floating-point instructions get more cases: their corners are where the bugs live. */
const FP_HEAVY = /^(add|sub|mul|div|min|max|sqrt|cmp|u?comis|cvt)/;
const CODE = BigInt(SCRATCH);
const MEM_BASE = SCRATCH + 0x10000;
const ARITH_FLAGS = 0x8d5n;
/** FXSAVE bytes compared: FCW, FSW, FTW; MXCSR; ST0–7 and XMM0–15 (not FOP/FIP/FDP, which vary by CPU). */
const FX_REGIONS: ReadonlyArray<readonly [number, number, string]> = [
  [0, 2, 'fcw'], [2, 4, 'fsw'], [4, 5, 'ftw'], [24, 28, 'mxcsr'], [32, 160, 'st'], [160, 416, 'xmm'],
];
const SIGNAL_OF_VECTOR: Record<number, string> = { 19: 'SIGFPE', 16: 'SIGFPE', 13: 'SIGSEGV', 6: 'SIGILL', 17: 'SIGBUS' };

const memory = fakeMemory();

function emulate(bytes: Uint8Array, c: NativeInput): { out: EmuOutcome; cpu: FakeCpu } {
  const cpu = new FakeCpu(memory);
  cpu.xsave!.set(c.fx.subarray(0, 512));
  cpu.xsaveView.setBigUint64(XSTATE_BV, 3n, true);
  Object.assign(cpu.regs, {
    rax: BigInt.asUintN(64, c.rax), rcx: BigInt.asUintN(64, c.rcx), rdx: BigInt.asUintN(64, c.rdx),
    rflags: (c.rflags & ARITH_FLAGS) | 0x202n, rdi: BigInt(MEM_BASE + c.memOffset), rip: CODE,
  });
  memory.bytes.set(c.mem, MEM_BASE);
  return { out: emulateInstruction(cpu, memory, bytes), cpu };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Differences between the emulator's result and the CPU's, as readable lines (empty: agreed). */
function differences(out: EmuOutcome, cpu: FakeCpu, n: NativeOutput): string[] {
  const d: string[] = [];
  if (out.kind === 'unsupported') return [`emulator: ${out.detail}`];
  const emuSignal = out.kind === 'exception' ? SIGNAL_OF_VECTOR[out.vector] ?? `vector ${out.vector}` : 'none';
  if (emuSignal !== n.signal) d.push(`exception: emulator ${emuSignal}, CPU ${n.signal}`);
  const fx = cpu.xsave!;
  for (const [from, to, what] of FX_REGIONS) {
    if (hex(fx.subarray(from, to)) !== hex(n.fx.subarray(from, to))) {
      d.push(`${what}: emulator ${hex(fx.subarray(from, to))}, CPU ${hex(n.fx.subarray(from, to))}`);
    }
  }
  if (n.signal !== 'none') return d;
  for (const r of ['rax', 'rcx', 'rdx'] as const) {
    if (cpu.regs[r] !== n[r]) d.push(`${r}: emulator ${cpu.regs[r].toString(16)}, CPU ${n[r].toString(16)}`);
  }
  if ((cpu.regs.rflags & ARITH_FLAGS) !== (n.rflags & ARITH_FLAGS)) {
    d.push(`rflags: emulator ${(cpu.regs.rflags & ARITH_FLAGS).toString(16)}, CPU ${(n.rflags & ARITH_FLAGS).toString(16)}`);
  }
  const mem = memory.bytes.subarray(MEM_BASE, MEM_BASE + NATIVE_MEM);
  if (hex(mem) !== hex(n.mem)) d.push(`memory: emulator ${hex(mem)}, CPU ${hex(n.mem)}`);
  return d;
}

const unavailable = nativeUnavailable();

t.test('emulated instructions agree with the CPU', { skip: unavailable ?? false }, async (t) => {
  const r = new Rng(SEED);
  t.comment(`seed ${SEED} (EMU_SEED), ${CASES} cases per encoding (EMU_CASES)`);
  // The host's MXCSR_MASK, from one native FXSAVE: inputs must keep reserved bits clear.
  const probeFx = new Uint8Array(512);
  new DataView(probeFx.buffer).setUint32(24, 0x1f80, true);
  const probe = runNative([new Uint8Array([0x90])], [{ insn: 0, memOffset: 0, rax: 0n, rcx: 0n, rdx: 0n, rflags: 0n, fx: probeFx, mem: new Uint8Array(NATIVE_MEM) }]);
  const mask = new DataView(probe[0]!.fx.buffer).getUint32(28, true) || 0xffbf;
  t.comment(`host MXCSR_MASK 0x${mask.toString(16)}`);

  const specs = EMULATED.all().filter((s) => s.map === 1 || X87.has(s.name));
  const encodings: Array<{ spec: InsnSpec; bytes: Uint8Array }> = [];
  for (const spec of specs) for (const bytes of encodingsOf(spec, r)) encodings.push({ spec, bytes });
  const inputs: NativeInput[] = [];
  encodings.forEach((e, i) => {
    const n = FP_HEAVY.test(e.spec.name) ? CASES * 4 : CASES;
    for (let k = 0; k < n; k++) inputs.push(randomInput(r, i, mask, X87.has(e.spec.name)));
  });
  const native = runNative(encodings.map((e) => e.bytes), inputs);

  const failures = new Map<string, string[]>();
  const counts = new Map<string, number>();
  inputs.forEach((c, i) => {
    const e = encodings[c.insn]!;
    counts.set(e.spec.name, (counts.get(e.spec.name) ?? 0) + 1);
    const { out, cpu } = emulate(e.bytes, c);
    const d = differences(out, cpu, native[i]!);
    if (d.length === 0) return;
    const list = failures.get(e.spec.name) ?? [];
    if (list.length < 3) {
      const mx = new DataView(c.fx.buffer).getUint32(24, true).toString(16);
      const x = (i: number): string => hex(c.fx.subarray(160 + i * 16, 176 + i * 16));
      const inputs = `xmm1 ${x(1)} xmm2 ${x(2)} xmm9 ${x(9)} xmm10 ${x(10)} [rdi] ${hex(c.mem.subarray(c.memOffset, c.memOffset + 16))}`;
      list.push(`${hex(e.bytes)} mxcsr ${mx} memOffset ${c.memOffset}\n    ${inputs}\n    ${d.join('\n    ')}`);
    }
    failures.set(e.spec.name, list);
  });
  for (const [name, n] of [...counts].sort()) {
    const f = failures.get(name);
    t.ok(f === undefined, `${name}: ${n} cases agree with the CPU`, f === undefined ? {} : { diag: { first: f } });
  }
  t.ok(specs.length > 100, `${specs.length} table entries, ${encodings.length} encodings, ${inputs.length} cases`);
});
