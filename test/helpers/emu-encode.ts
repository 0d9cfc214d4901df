// emu-encode.ts: random encodings of the emulated instructions with every addressing form — prefixes,
// REX, ModRM/SIB, displacements, immediates — for the decoder's tests, and AT&T renderings of the
// memory operands as GNU objdump prints them.
import type { InsnSpec } from '../../hypervisor/vcpu/emulate/insn.ts';
import type { MemOperand } from '../../hypervisor/vcpu/emulate/insn.ts';
import type { Rng } from './emu-fuzz.ts';

export type Bits = 16 | 32 | 64;

const SEGMENT_PREFIXES = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
const MANDATORY = { none: [], '66': [0x66], F3: [0xf3], F2: [0xf2] } as const;

function le(v: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(v / 2 ** (8 * i)) & 0xff);
}

/** ModRM + SIB + displacement bytes for a random memory or register operand. */
function operandBytes(r: Rng, reg: number, addr: Bits, wantMem: boolean): number[] {
  const mod = wantMem ? r.below(3) : 3;
  const rm = r.below(8);
  const out = [(mod << 6) | (reg << 3) | rm];
  if (mod === 3) return out;
  if (addr === 16) {
    if (mod === 0 && rm === 6) return [...out, ...le(r.u32(), 2)];
    return [...out, ...(mod === 1 ? le(r.u32(), 1) : mod === 2 ? le(r.u32(), 2) : [])];
  }
  if (rm === 4) {
    const sib = r.below(256);
    out.push(sib);
    if ((sib & 7) === 5 && mod === 0) return [...out, ...le(r.u32(), 4)];
  } else if (rm === 5 && mod === 0) {
    return [...out, ...le(r.u32(), 4)];
  }
  return [...out, ...(mod === 1 ? le(r.u32(), 1) : mod === 2 ? le(r.u32(), 4) : [])];
}

/** One random encoding of `spec` for code of `bits` (or null when the spec cannot run there). */
export function randomEncoding(r: Rng, spec: InsnSpec, bits: Bits): number[] | null {
  if (spec.not64 === true && bits === 64) return null;
  const out: number[] = [];
  if (r.chance(0.3)) out.push(r.pick(SEGMENT_PREFIXES));
  const addr67 = r.chance(0.3);
  if (addr67) out.push(0x67);
  if (spec.prefix === undefined) {
    if (r.chance(0.3)) out.push(0x66);
  } else {
    out.push(...MANDATORY[spec.prefix]);
  }
  // REX.R/X/B freely; REX.W only where it is meaningful to the instruction (or harmless).
  if (bits === 64 && spec.map === 1 && r.chance(0.5)) out.push(0x40 | r.below(16));
  out.push(...(spec.map === 1 ? [0x0f, spec.op] : [spec.op]));
  const addr: Bits = bits === 64 ? (addr67 ? 32 : 64) : (bits === 16) !== addr67 ? 16 : 32;
  if (spec.modrm !== undefined) out.push(spec.modrm);
  else if (spec.hasModrm === true || spec.reg !== undefined || spec.form !== undefined) {
    const wantMem = spec.form === 'mem' ? true : spec.form === 'reg' ? false : r.chance(0.7);
    out.push(...operandBytes(r, spec.reg ?? r.below(8), addr, wantMem));
  }
  if (spec.imm !== undefined) out.push(...le(r.u32(), spec.imm));
  return out;
}

const REGS64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const REGS32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const REGS16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];

/** The memory operand as objdump writes it: disp(base,index,scale), without any segment. */
export function attMemory(m: MemOperand, addr: Bits): string {
  const names = addr === 64 ? REGS64 : addr === 32 ? REGS32 : REGS16;
  const base = m.ripRelative ? (addr === 64 ? '%rip' : '%eip') : m.base === null ? '' : `%${names[m.base]}`;
  const index = m.index === null ? '' : `,%${names[m.index]},${m.scale}`;
  const mask = (1n << BigInt(addr === 64 && !m.ripRelative ? 64 : addr)) - 1n;
  let disp = '';
  if (m.disp !== 0n || (base === '' && index === '')) {
    disp = base === '' && index === '' ? `0x${(m.disp & mask).toString(16)}`
      : m.disp < 0n ? `-0x${(-m.disp).toString(16)}` : `0x${m.disp.toString(16)}`;
  }
  // A SIB byte with no base and no index still names a scale-less absolute address.
  if (base === '' && index === '') return disp;
  return `${disp}(${base}${index})`;
}
