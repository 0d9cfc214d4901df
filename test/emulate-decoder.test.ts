// emulate-decoder.test.ts: the emulator's decoder against GNU objdump (length, mnemonic, memory
// operand) in 16-, 32- and 64-bit code, its effective addresses against the CPU's own LEA, and
// hostile byte streams (truncated, over-long, unknown) that must end in a report or a #GP/#UD.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '../hypervisor/vcpu/emulate/decoder.ts';
import { effectiveAddress } from '../hypervisor/vcpu/emulate/address.ts';
import { EMULATED } from '../hypervisor/vcpu/emulate/table.ts';
import { OpcodeTable } from '../hypervisor/vcpu/emulate/opcode-table.ts';
import { GuestException, NotEmulated } from '../hypervisor/vcpu/emulate/errors.ts';
import type { CpuMode } from '../hypervisor/vcpu/emulate/mode.ts';
import type { Insn, InsnSpec } from '../hypervisor/vcpu/emulate/insn.ts';
import { RegFile } from '../hypervisor/vcpu/emulate/registers.ts';
import { emulateInstruction, type EmuOutcome } from '../hypervisor/vcpu/emulate/emulator.ts';
import { FakeCpu } from './helpers/emu-cpu.ts';
import { Rng } from './helpers/emu-fuzz.ts';
import { randomEncoding, type Bits } from './helpers/emu-encode.ts';
import { nativeUnavailable } from './helpers/native-insn.ts';

const SEED = Number(process.env.EMU_SEED ?? 4242);
const PER_SPEC = 12;
const modeOf = (bits: Bits): CpuMode => ({ bits, cpl: 0, real: bits === 16, v86: false, long: bits === 64 });
const decodeBytes = (b: readonly number[], bits: Bits, table = EMULATED): Insn =>
  decode((i) => {
    if (i >= b.length) throw new NotEmulated('ran out of bytes');
    return b[i]!;
  }, modeOf(bits), table);

const OBJDUMP_ARCH: Record<Bits, string> = { 64: 'i386:x86-64', 32: 'i386', 16: 'i8086' };
const hasObjdump = spawnSync('objdump', ['--version']).status === 0;

const PREFIX_WORD = /^(cs|ds|es|ss|fs|gs|rex(\.[WRXB]+)?|data16|data32|addr16|addr32|repz|repnz|rep|lock)$/;

interface Disassembled { readonly length: number; readonly mnemonic: string; readonly operands: string }

/** objdump's view of each instruction starting at `offsets` (each followed by NOPs to resync). */
function objdump(buf: Uint8Array, bits: Bits): Map<number, Disassembled> {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-objdump-'));
  try {
    writeFileSync(join(dir, 'code.bin'), buf);
    const text = execFileSync('objdump', ['-D', '-b', 'binary', '-m', OBJDUMP_ARCH[bits], '-w', join(dir, 'code.bin')], {
      maxBuffer: 64 << 20, encoding: 'utf8',
    });
    const out = new Map<number, Disassembled>();
    for (const line of text.split('\n')) {
      const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$/.exec(line);
      if (m === null) continue;
      // objdump spells prefixes it thinks unused as words before the mnemonic.
      const words = m[3]!.replace(/\s+#.*$/, '').split(/\s+/);
      while (words.length > 1 && PREFIX_WORD.test(words[0]!)) words.shift();
      out.set(parseInt(m[1]!, 16), { length: m[2]!.split(' ').length, mnemonic: words[0]!, operands: words.slice(1).join(' ') });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** objdump's mnemonic for our entry, modulo operand-size suffixes and a few other spellings. */
function sameMnemonic(spec: InsnSpec, m: string): boolean {
  const ours = spec.name.replace(/ ax$/, '');
  if (m === ours) return true;
  if (ours === 'movd' && m === 'movq') return true; // MOVD with REX.W
  if (ours === 'iret' && /^iret[wdlq]$/.test(m)) return true;
  // CMPPS and friends with a predicate immediate print as cmpltps, cmpunordsd, ...
  if (/^cmp(ps|ss|pd|sd)$/.test(ours) && new RegExp(`^cmp(eq|lt|le|unord|neq|nlt|nle|ord)${ours.slice(3)}$`).test(m)) return true;
  return /^cvt/.test(ours) && m.replace(/[lq]$/, '') === ours; // cvtsi2ssl, cvtsi2sdq
}

/** disp, base, index, scale from objdump's memory operand, or null if it has none. */
function parseMemory(operands: string): { disp: bigint; base: string; index: string; scale: number } | null {
  for (const op of operands.split(/,(?![^(]*\))/)) {
    const text = op.replace(/^%[a-z]s:/, '');
    if (text.startsWith('$') || text.startsWith('%')) continue;
    const m = /^(-?0x[0-9a-f]+)?(?:\((%[a-z0-9]+)?(?:,(%[a-z0-9]+)(?:,(\d))?)?\))?$/.exec(text);
    if (m === null || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) continue;
    const disp = m[1] === undefined ? 0n : m[1].startsWith('-') ? -BigInt(m[1].slice(1)) : BigInt(m[1]);
    const index = m[3] === undefined || /iz$/.test(m[3]) ? '' : m[3];
    return { disp, base: m[2] ?? '', index, scale: index === '' ? 1 : Number(m[4] ?? 1) };
  }
  return null;
}

const REG_NAMES: Record<Bits, readonly string[]> = {
  64: ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'],
  32: ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'],
  16: ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'],
};

t.test('decoder agrees with objdump on every emulated instruction', { skip: hasObjdump ? false : 'objdump is not installed' }, async (t) => {
  const r = new Rng(SEED);
  for (const bits of [64, 32, 16] as const) {
    const cases: Array<{ spec: InsnSpec; bytes: number[]; at: number }> = [];
    const buf: number[] = [];
    for (const spec of EMULATED.all()) {
      for (let k = 0; k < PER_SPEC; k++) {
        const bytes = randomEncoding(r, spec, bits);
        if (bytes === null) continue;
        cases.push({ spec, bytes, at: buf.length });
        buf.push(...bytes, ...new Array(16).fill(0x90));
      }
    }
    const dis = objdump(new Uint8Array(buf), bits);
    const bad: string[] = [];
    for (const c of cases) {
      const hex = c.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
      let insn: Insn;
      try {
        insn = decodeBytes(c.bytes, bits);
      } catch (e) {
        bad.push(`${hex}: decoder threw ${String(e)}`);
        continue;
      }
      const d = dis.get(c.at);
      if (d === undefined) { bad.push(`${hex}: objdump has no instruction here`); continue; }
      if (insn.spec !== c.spec) bad.push(`${hex}: decoded as ${insn.spec.name}, generated as ${c.spec.name}`);
      if (insn.length !== c.bytes.length || d.length !== c.bytes.length) bad.push(`${hex}: length ${insn.length}, objdump ${d.length}`);
      if (!sameMnemonic(insn.spec, d.mnemonic)) bad.push(`${hex}: ${insn.spec.name}, objdump ${d.mnemonic}`);
      if (insn.mem !== null) {
        const m = parseMemory(d.operands);
        const names = REG_NAMES[insn.addrSize];
        const mask = (1n << BigInt(insn.addrSize)) - 1n;
        const base = insn.mem.ripRelative ? (insn.addrSize === 64 ? '%rip' : '%eip') : insn.mem.base === null ? '' : `%${names[insn.mem.base]}`;
        const index = insn.mem.index === null ? '' : `%${names[insn.mem.index]}`;
        if (m === null || m.base !== base || m.index !== index || (index !== '' && m.scale !== insn.mem.scale) ||
          (m.disp & mask) !== (insn.mem.disp & mask)) {
          bad.push(`${hex}: memory ${insn.mem.disp}(${base},${index},${insn.mem.scale}), objdump ${d.operands}`);
        }
      }
    }
    t.same(bad.slice(0, 10), [], `${bits}-bit code: ${cases.length} encodings decode as objdump decodes them`);
  }
});

/** A C helper that runs LEA with the same ModRM/SIB/displacement bytes on random registers. */
function nativeLea(encodings: readonly number[][], regs: readonly bigint[][]): Array<{ ea: bigint; next: bigint }> {
  const stubs = encodings.map((b, i) => `static void stub${i}(void) { __asm__ volatile(
    "mov %%rsp, SAVE+0(%%rip)\\n mov %%rbp, SAVE+8(%%rip)\\n mov %%rbx, SAVE+16(%%rip)\\n mov %%r12, SAVE+24(%%rip)\\n"
    "mov %%r13, SAVE+32(%%rip)\\n mov %%r14, SAVE+40(%%rip)\\n mov %%r15, SAVE+48(%%rip)\\n"
    ${Array.from({ length: 16 }, (_, k) => `"mov R+${k * 8}(%%rip), %%${REG_NAMES[64][k]}\\n"`).join(' ')}
    ".byte ${b.map((x) => `0x${x.toString(16)}`).join(',')}\\n"
    "1: mov %%rax, OUT(%%rip)\\n"
    "mov SAVE+0(%%rip), %%rsp\\n mov SAVE+8(%%rip), %%rbp\\n mov SAVE+16(%%rip), %%rbx\\n mov SAVE+24(%%rip), %%r12\\n"
    "mov SAVE+32(%%rip), %%r13\\n mov SAVE+40(%%rip), %%r14\\n mov SAVE+48(%%rip), %%r15\\n"
    "lea 1b(%%rip), %%rax\\n mov %%rax, OUT+8(%%rip)\\n"
    ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory"); }`);
  const src = `#include <stdint.h>
#include <stdio.h>
uint64_t R[16], SAVE[8], OUT[2];
${stubs.join('\n')}
static void (*const stubs[])(void) = { ${encodings.map((_, i) => `stub${i}`).join(', ')} };
int main(void) {
  for (unsigned i = 0; i < ${encodings.length}; i++) {
    if (fread(R, sizeof R, 1, stdin) != 1) return 1;
    stubs[i]();
    fwrite(OUT, sizeof OUT, 1, stdout);
  }
  return 0;
}`;
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-lea-'));
  try {
    writeFileSync(join(dir, 'lea.c'), src);
    execFileSync('gcc', ['-O1', '-fomit-frame-pointer', '-o', join(dir, 'lea'), join(dir, 'lea.c')]);
    const input = Buffer.alloc(regs.length * 128);
    regs.forEach((rs, i) => rs.forEach((v, k) => input.writeBigUInt64LE(v, i * 128 + k * 8)));
    const out = execFileSync(join(dir, 'lea'), { input });
    return encodings.map((_, i) => ({ ea: out.readBigUInt64LE(i * 16), next: out.readBigUInt64LE(i * 16 + 8) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('effective addresses match the CPU (LEA, 64- and 32-bit addressing)', { skip: nativeUnavailable() ?? false }, async (t) => {
  const r = new Rng(SEED + 1);
  // LEA r64, m (8D /r) through a table of its own: the decoder's ModRM/SIB logic, LEA's bytes.
  const lea: InsnSpec = { name: 'lea', map: 0, op: 0x8d, hasModrm: true, form: 'mem', exec: () => undefined };
  const table = new OpcodeTable([lea]);
  const encodings: number[][] = [];
  const regs: bigint[][] = [];
  for (let i = 0; i < 600; i++) {
    let b: number[] | null;
    do b = randomEncoding(r, lea, 64); while (b === null);
    // Keep only 0x67 of the prefixes (LEA ignores segments) and use REX.W with a random REX.X/B and
    // REX.R clear: the address lands in RAX.
    const at = b.indexOf(0x8d);
    const pre = b.slice(0, at).filter((x) => x === 0x67);
    const modrm = b[at + 1]! & 0xc7;
    encodings.push([...pre, 0x48 | r.below(4), 0x8d, modrm, ...b.slice(at + 2)]);
    regs.push(Array.from({ length: 16 }, () => (r.chance(0.3) ? BigInt(r.below(1 << 16)) : r.u64())));
  }
  const native = nativeLea(encodings, regs);
  const bad: string[] = [];
  encodings.forEach((b, i) => {
    const insn = decodeBytes(b, 64, table);
    const cpu = new FakeCpu();
    regs[i]!.forEach((v, k) => cpu.setReg(REG_NAMES[64][k] as 'rax', v));
    const ea = effectiveAddress(insn.mem!, insn.addrSize, new RegFile(cpu), native[i]!.next);
    if (ea !== native[i]!.ea) bad.push(`${b.map((x) => x.toString(16)).join(' ')}: ${ea.toString(16)}, CPU ${native[i]!.ea.toString(16)}`);
  });
  t.same(bad.slice(0, 10), [], `${encodings.length} random addressing forms compute the CPU's address`);
});

t.test('16-bit addressing forms', async (t) => {
  const cpu = new FakeCpu();
  Object.assign(cpu.regs, { rbx: 0x1000n, rsi: 0x20n, rdi: 0x30n, rbp: 0xff00n });
  const ea = (bytes: number[]): { ea: bigint; seg: string } => {
    const insn = decodeBytes(bytes, 16);
    return { ea: effectiveAddress(insn.mem!, 16, new RegFile(cpu), 0n), seg: insn.mem!.seg };
  };
  t.same(ea([0x0f, 0x58, 0x00]), { ea: 0x1020n, seg: 'ds' }, '[bx+si]');
  t.same(ea([0x0f, 0x58, 0x42, 0x10]), { ea: 0xff30n, seg: 'ss' }, '[bp+si+0x10] uses SS');
  t.same(ea([0x0f, 0x58, 0x83, 0x00, 0x10]), { ea: 0x0f30n, seg: 'ss' }, '[bp+di+0x1000] wraps at 64 KiB');
  t.same(ea([0x0f, 0x58, 0x06, 0x34, 0x12]), { ea: 0x1234n, seg: 'ds' }, '[disp16]');
  t.same(ea([0x26, 0x0f, 0x58, 0x47, 0xff]), { ea: 0x0fffn, seg: 'es' }, 'es:[bx-1]');
});

t.test('hostile instruction bytes end in a report or an exception, never a crash', async (t) => {
  const r = new Rng(SEED + 2);
  const outcome = (b: number[]): string => {
    try {
      return `decoded ${decodeBytes(b, 64).spec.name}`;
    } catch (e) {
      if (e instanceof GuestException) return `exception ${e.vector}`;
      return e instanceof NotEmulated ? 'not emulated' : `threw ${String(e)}`;
    }
  };
  t.equal(outcome([...new Array(14).fill(0x66), 0x0f, 0x58, 0xc1]), 'exception 13', 'more than 15 bytes: #GP(0)');
  t.equal(outcome([0xf0, 0x0f, 0x58, 0xc1]), 'exception 6', 'LOCK on an SSE instruction: #UD');
  t.equal(outcome([0x0f, 0x0b]), 'not emulated', 'ud2 is not emulated');
  t.equal(outcome([0xc5, 0xf8, 0x58, 0xc1]), 'not emulated', 'VEX: not emulated');
  t.equal(outcome([0xce]), 'exception 6', 'INTO in 64-bit mode: #UD');
  t.equal(outcome([0x0f, 0x58]), 'not emulated', 'truncated: reported');
  let survived = 0;
  for (let i = 0; i < 20000; i++) {
    const bytes = Array.from({ length: 1 + r.below(16) }, () => (r.chance(0.3) ? r.pick([0x0f, 0x66, 0xf3, 0xf2, 0x67, 0x48]) : r.below(256)));
    try {
      const insn = decodeBytes(bytes, r.pick([16, 32, 64] as const));
      if (insn.length > 15) t.fail('decoded an instruction longer than 15 bytes');
    } catch (e) {
      if (!(e instanceof GuestException || e instanceof NotEmulated)) t.fail(`random bytes threw ${String(e)}`);
    }
    survived++;
  }
  t.equal(survived, 20000, 'random byte strings only decode, raise a guest exception or are reported');

  // The whole emulator on random bytes and registers: an outcome every time, reports on one line.
  const kinds = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const cpu = new FakeCpu();
    for (const reg of REG_NAMES[64]) cpu.setReg(reg as 'rax', r.chance(0.5) ? r.u64() : BigInt(0x100000 + r.below(0x10000)));
    cpu.regs.rip = 0x200000n;
    const bytes = new Uint8Array(Array.from({ length: 15 }, () => (r.chance(0.4) ? r.pick([0x0f, 0x66, 0xf3, 0xf2, 0xcd, 0xcf]) : r.below(256))));
    let out: EmuOutcome;
    try {
      out = emulateInstruction(cpu, cpu.mem, bytes.subarray(0, 1 + r.below(15)));
    } catch (e) {
      t.fail(`emulator threw on ${Buffer.from(bytes).toString('hex')}: ${String(e)}`);
      continue;
    }
    kinds.set(out.kind, (kinds.get(out.kind) ?? 0) + 1);
    if (out.kind === 'unsupported' && out.detail.includes('\n')) t.fail(`multi-line report: ${out.detail}`);
  }
  t.ok((kinds.get('unsupported') ?? 0) > 0 && (kinds.get('exception') ?? 0) > 0, `3000 random instructions: ${JSON.stringify(Object.fromEntries(kinds))}`);
});
