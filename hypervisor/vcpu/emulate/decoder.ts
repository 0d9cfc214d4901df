// decoder.ts: x86 instruction decoding — prefixes, REX, opcode maps, ModRM/SIB/displacement, immediates.
//
// Bytes come from a fetch function (KVM's copy of the instruction, then guest memory), so a
// hostile or truncated instruction can only end in a guest exception or NotEmulated.
import type { SegName } from './cpu-port.ts';
import type { CpuMode } from './mode.ts';
import { gp, ud, NotEmulated } from './errors.ts';
import { hasModrm, type OpcodeTable } from './opcode-table.ts';
import { REX_B, REX_R, REX_W, REX_X, type Insn, type MandatoryPrefix, type MemOperand, type OpcodeMap } from './insn.ts';

/** The architectural limit: a longer instruction raises #GP(0). */
export const MAX_INSN_LENGTH = 15;

const SEG_PREFIX: Record<number, SegName> = { 0x26: 'es', 0x2e: 'cs', 0x36: 'ss', 0x3e: 'ds', 0x64: 'fs', 0x65: 'gs' };

/** The 16-bit ModRM forms: [base, index] for rm 0–7 (register numbers). */
const MODRM16: ReadonlyArray<readonly [number | null, number | null]> = [
  [3, 6], [3, 7], [5, 6], [5, 7], [6, null], [7, null], [5, null], [3, null],
];

class ByteReader {
  pos = 0;
  constructor(private readonly fetch: (i: number) => number) {}
  peek(): number {
    if (this.pos >= MAX_INSN_LENGTH) throw gp(0);
    return this.fetch(this.pos);
  }
  next(): number {
    const b = this.peek();
    this.pos++;
    return b;
  }
  /** Little-endian signed displacement of n bytes. */
  signed(n: 1 | 2 | 4): bigint {
    let v = 0n;
    for (let i = 0; i < n; i++) v |= BigInt(this.next()) << BigInt(8 * i);
    return BigInt.asIntN(8 * n, v);
  }
  unsigned(n: 1 | 2 | 4): number {
    let v = 0;
    for (let i = 0; i < n; i++) v += this.next() * 2 ** (8 * i);
    return v;
  }
}

export function decode(fetch: (i: number) => number, mode: CpuMode, table: OpcodeTable): Insn {
  const r = new ByteReader(fetch);
  let opsize = false, addrsize = false, lock = false, rep = 0, seg: SegName | null = null, rex = 0;
  for (;;) {
    const b = r.peek();
    if (b === 0x66) opsize = true;
    else if (b === 0x67) addrsize = true;
    else if (b === 0xf0) lock = true;
    else if (b === 0xf2 || b === 0xf3) rep = b;
    else if (SEG_PREFIX[b] !== undefined) seg = SEG_PREFIX[b]!;
    else if (mode.bits === 64 && (b & 0xf0) === 0x40) {
      r.next();
      rex = b;
      continue;
    } else break;
    r.next();
    rex = 0; // a REX prefix counts only right before the opcode
  }
  let map: OpcodeMap = 0;
  let op = r.next();
  if (op === 0x0f) {
    map = 1;
    op = r.next();
    if (op === 0x38 || op === 0x3a) {
      map = op === 0x38 ? 2 : 3;
      op = r.next();
    }
  }
  if (map === 0 && (op === 0xc4 || op === 0xc5 || op === 0x62) && (mode.bits === 64 || (r.peek() & 0xc0) === 0xc0)) {
    throw new NotEmulated('VEX/EVEX-encoded (AVX) instructions are not emulated');
  }
  const prefix: MandatoryPrefix = rep === 0xf3 ? 'F3' : rep === 0xf2 ? 'F2' : opsize ? '66' : 'none';
  const cands = table.candidates(map, op);
  if (cands.length === 0) throw new NotEmulated('not in the emulated set');
  const modrm = hasModrm(cands[0]!) ? r.next() : null;
  const spec = table.pick(cands, prefix, modrm);
  if (spec === null) throw new NotEmulated('this form is not in the emulated set');
  // None of the emulated instructions accepts LOCK.
  if (lock) throw ud();
  if (spec.not64 === true && mode.bits === 64) throw ud();

  const opSize: 16 | 32 | 64 = mode.bits === 64
    ? ((rex & REX_W) !== 0 ? 64 : opsize ? 16 : 32)
    : (mode.bits === 16) !== opsize ? 16 : 32;
  const addrSize: 16 | 32 | 64 = mode.bits === 64 ? (addrsize ? 32 : 64) : (mode.bits === 16) !== addrsize ? 16 : 32;
  const mod = modrm === null ? 3 : modrm >> 6;
  const reg = modrm === null ? 0 : ((modrm >> 3) & 7) | ((rex & REX_R) !== 0 ? 8 : 0);
  let rm = modrm === null ? 0 : (modrm & 7) | ((rex & REX_B) !== 0 ? 8 : 0);
  let mem: MemOperand | null = null;
  if (modrm !== null && mod !== 3) {
    mem = addrSize === 16 ? memory16(r, mod, modrm & 7, seg) : memory32(r, mod, modrm & 7, rex, mode.bits === 64, seg);
    rm = -1;
  }
  const imm = spec.imm === undefined ? 0 : r.unsigned(spec.imm);
  const length = r.pos;
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = fetch(i);
  return { spec, bytes, length, opSize, addrSize, rex, mod, reg, rm, mem, imm };
}

function memory16(r: ByteReader, mod: number, rm: number, seg: SegName | null): MemOperand {
  if (mod === 0 && rm === 6) return { base: null, index: null, scale: 1, disp: r.signed(2), ripRelative: false, seg: seg ?? 'ds' };
  const [base, index] = MODRM16[rm]!;
  const disp = mod === 1 ? r.signed(1) : mod === 2 ? r.signed(2) : 0n;
  return { base, index, scale: 1, disp, ripRelative: false, seg: seg ?? (base === 5 ? 'ss' : 'ds') };
}

function memory32(r: ByteReader, mod: number, rm: number, rex: number, long: boolean, seg: SegName | null): MemOperand {
  let base: number | null = rm | ((rex & REX_B) !== 0 ? 8 : 0);
  let index: number | null = null;
  let scale: 1 | 2 | 4 | 8 = 1;
  let ripRelative = false;
  let disp = 0n;
  if (rm === 4) {
    const sib = r.next();
    scale = (1 << (sib >> 6)) as 1 | 2 | 4 | 8;
    const idx = ((sib >> 3) & 7) | ((rex & REX_X) !== 0 ? 8 : 0);
    index = idx === 4 ? null : idx; // index 4 without REX.X means none
    base = (sib & 7) | ((rex & REX_B) !== 0 ? 8 : 0);
    if ((sib & 7) === 5 && mod === 0) {
      base = null;
      disp = r.signed(4);
    }
  } else if (rm === 5 && mod === 0) {
    base = null;
    ripRelative = long;
    disp = r.signed(4);
  }
  if (mod === 1) disp = r.signed(1);
  else if (mod === 2) disp = r.signed(4);
  // 64-bit mode ignores CS/DS/ES/SS overrides (their bases are 0); FS and GS keep theirs.
  const override = seg !== null && (!long || seg === 'fs' || seg === 'gs') ? seg : null;
  // (E/R)SP and (E/R)BP as base select SS (R12/R13 do not).
  return { base, index, scale, disp, ripRelative, seg: override ?? (base === 4 || base === 5 ? 'ss' : 'ds') };
}
