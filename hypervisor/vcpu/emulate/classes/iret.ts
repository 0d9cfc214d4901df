// iret.ts: IRET/IRETD/IRETQ — return from an interrupt to the same or an outer privilege level, in
// real mode, legacy protected mode and IA-32e mode, with the CPU's checks and RFLAGS rules.
import type { Segment } from '../cpu-port.ts';
import type { EmuContext } from '../context.ts';
import type { Insn, InsnSpec } from '../insn.ts';
import { GuestException, NotEmulated, VEC } from '../errors.ts';
import { isCanonical } from '../address.ts';
import { RFLAGS } from '../mode.ts';
import {
  fields, isConforming, isWritableData, loadCodeDescriptor, nullSegment, nullStackSegment, readDescriptor,
  selectorError, toSegment,
} from './descriptors.ts';
import { Stack, legacyStackWidth, storeSp } from './stack.ts';

/** Flags IRET may always load (CF PF AF ZF SF TF DF OF NT), then the wider and privileged ones. */
const BASE_FLAGS = 0x4fd5n;
const WIDE_FLAGS = RFLAGS.RF | RFLAGS.AC | RFLAGS.ID;

/** RFLAGS after IRET pops `popped` (of `size` bytes) at the CPL it was executed at. */
export function iretFlags(old: bigint, popped: bigint, size: 2 | 4 | 8, cpl: number, long: boolean): bigint {
  let mask = BASE_FLAGS | (size > 2 ? WIDE_FLAGS : 0n);
  if (cpl === 0) mask |= RFLAGS.IOPL | (size > 2 && !long ? RFLAGS.VIF | RFLAGS.VIP : 0n);
  if (cpl <= Number((old & RFLAGS.IOPL) >> 12n)) mask |= RFLAGS.IF;
  return (old & ~mask) | (popped & mask) | 2n;
}

function iret(ctx: EmuContext, insn: Insn): void {
  const size = (insn.opSize / 8) as 2 | 4 | 8;
  if (ctx.mode.real) return iretReal(ctx, size === 8 ? 4 : size);
  if (ctx.mode.v86) throw new NotEmulated('IRET in virtual-8086 mode is not emulated');
  const flags = ctx.regs.get('rflags');
  if ((flags & RFLAGS.NT) !== 0n) {
    // A nested-task return: #GP(0) in IA-32e mode, a task switch otherwise.
    if (ctx.mode.long) throw new GuestException(VEC.GP, 0);
    throw new NotEmulated('IRET with NT set (task return) is not emulated');
  }
  const cpl = ctx.mode.cpl;
  const ss = ctx.seg('ss');
  const stack = new Stack(ctx, ss, ctx.regs.get('rsp'), ctx.mode.bits === 64 ? 64 : legacyStackWidth(ss), cpl);
  const ip = stack.pop(size);
  const csSel = Number(stack.pop(size) & 0xffffn);
  const popped = stack.pop(size);
  if (!ctx.mode.long && size === 4 && (popped & RFLAGS.VM) !== 0n && cpl === 0) {
    throw new NotEmulated('IRET to virtual-8086 mode is not emulated');
  }
  const rpl = csSel & 3;
  const csD = loadCodeDescriptor(ctx, csSel);
  if (rpl < cpl) throw new GuestException(VEC.GP, selectorError(csSel));
  if (isConforming(csD) ? csD.dpl > rpl : csD.dpl !== rpl) throw new GuestException(VEC.GP, selectorError(csSel));
  if (!csD.present) throw new GuestException(VEC.NP, selectorError(csSel));
  const cs = toSegment(csD.raw, csSel);
  const to64 = ctx.mode.long && cs.l === 1;
  if (to64 && cs.db === 1) throw new GuestException(VEC.GP, selectorError(csSel));
  // 64-bit code always pops SS:RSP; elsewhere only a return to an outer level does.
  const popStack = rpl > cpl || ctx.mode.bits === 64;
  let newSs: Segment | null = null;
  let newSp = stack.sp;
  if (popStack) {
    newSp = stack.pop(size);
    newSs = returnStack(ctx, Number(stack.pop(size) & 0xffffn), rpl, to64);
  }
  if (to64 ? !isCanonical(ip) : ip > BigInt(cs.limit >>> 0)) throw new GuestException(VEC.GP, 0);
  ctx.loadSeg('cs', cs);
  if (newSs !== null) {
    ctx.loadSeg('ss', newSs);
    const width = to64 ? 64 : legacyStackWidth(newSs);
    storeSp(ctx, width === 64 ? newSp : BigInt.asUintN(width, newSp), width === 64 ? 64 : 32);
  } else {
    storeSp(ctx, stack.sp, stack.width);
  }
  if (rpl > cpl) dropInaccessibleSegments(ctx, rpl);
  ctx.regs.set('rip', to64 ? ip : BigInt.asUintN(32, ip));
  ctx.regs.set('rflags', iretFlags(flags, popped, size, cpl, ctx.mode.long));
  ctx.rflagsLoaded = true;
}

/** The SS an IRET returns to, checked; a null SS is allowed only back into 64-bit code below CPL 3. */
function returnStack(ctx: EmuContext, sel: number, rpl: number, to64: boolean): Segment {
  if ((sel & 0xfffc) === 0) {
    if (!to64 || rpl === 3) throw new GuestException(VEC.GP, 0);
    return nullStackSegment(rpl);
  }
  if ((sel & 3) !== rpl) throw new GuestException(VEC.GP, selectorError(sel));
  const d = fields(readDescriptor(ctx, sel));
  if (!isWritableData(d) || d.dpl !== rpl) throw new GuestException(VEC.GP, selectorError(sel));
  if (!d.present) throw new GuestException(VEC.SS, selectorError(sel));
  return toSegment(d.raw, sel);
}

/** On a return outward, data segments (and non-conforming code) more privileged than CPL go null. */
function dropInaccessibleSegments(ctx: EmuContext, cpl: number): void {
  for (const name of ['ds', 'es', 'fs', 'gs'] as const) {
    const s = ctx.seg(name);
    const conformingCode = s.s === 1 && (s.type & 0xc) === 0xc;
    if (s.unusable === 1 || conformingCode || s.dpl >= cpl) continue;
    ctx.loadSeg(name, nullSegment(0, name === 'fs' || name === 'gs' ? s.base : 0n));
  }
}

function iretReal(ctx: EmuContext, size: 2 | 4): void {
  const ss = ctx.seg('ss');
  const stack = new Stack(ctx, ss, ctx.regs.get('rsp'), 16, 0);
  const ip = stack.pop(size);
  const sel = Number(stack.pop(size) & 0xffffn);
  const popped = stack.pop(size);
  const old = ctx.regs.get('rflags');
  const flags = size === 4 ? (popped & 0x257fd5n) | (old & 0x1a0000n) : (old & ~0xffffn) | (popped & 0xffffn);
  ctx.loadSeg('cs', { ...ctx.seg('cs'), selector: sel, base: BigInt(sel << 4) });
  ctx.regs.set('rip', BigInt.asUintN(size * 8, ip));
  ctx.regs.set('rflags', flags | 2n);
  ctx.rflagsLoaded = true;
  storeSp(ctx, stack.sp, 16);
}

export const IRET_INSNS: readonly InsnSpec[] = [{ name: 'iret', map: 0, op: 0xcf, exec: iret }];
