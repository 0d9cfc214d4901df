// interrupt-delivery.ts: a software interrupt (INT n, INT3, INTO) delivered through the guest's IDT
// with the CPU's checks, in real mode, legacy protected mode and IA-32e mode. pvkvm builds the frame
// itself: KVM's emulator is what cannot, and its event injection would hand the work back to it.
import type { Segment } from '../cpu-port.ts';
import type { EmuContext } from '../context.ts';
import { GuestException, NotEmulated, VEC } from '../errors.ts';
import { isCanonical } from '../address.ts';
import { RFLAGS } from '../mode.ts';
import {
  fields, isConforming, isWritableData, le64, loadCodeDescriptor, nullStackSegment, readDescriptor, readSystem,
  selectorError, toSegment,
} from './descriptors.ts';
import { Stack, legacyStackWidth, storeSp } from './stack.ts';

const GATE = { TASK: 5, INT16: 6, TRAP16: 7, INT32: 0xe, TRAP32: 0xf } as const;

/** Deliver `vector` as a software interrupt; the return address is the next instruction. */
export function deliverSoftwareInterrupt(ctx: EmuContext, vector: number): void {
  if (ctx.mode.real) return deliverReal(ctx, vector);
  if (ctx.mode.v86) throw new NotEmulated('software interrupts in virtual-8086 mode are not emulated');
  return ctx.mode.long ? deliverLong(ctx, vector) : deliverLegacy(ctx, vector);
}

/** Flags on entry: TF, NT, RF (and VM) cleared; IF too through an interrupt gate. */
function entryFlags(flags: bigint, interruptGate: boolean): bigint {
  const clear = RFLAGS.TF | RFLAGS.NT | RFLAGS.RF | RFLAGS.VM | (interruptGate ? RFLAGS.IF : 0n);
  return flags & ~clear;
}

function deliverReal(ctx: EmuContext, vector: number): void {
  const idt = ctx.cpu.dtable('idt');
  if (vector * 4 + 3 > idt.limit) throw new GuestException(VEC.GP, 0);
  const entry = readSystem(ctx, idt.base + BigInt(vector * 4), 4);
  const ss = ctx.seg('ss');
  const stack = new Stack(ctx, ss, ctx.regs.get('rsp'), 16, 0);
  const flags = ctx.regs.get('rflags');
  stack.push(flags, 2);
  stack.push(BigInt(ctx.seg('cs').selector), 2);
  stack.push(ctx.nextRip, 2);
  const sel = entry[2]! | (entry[3]! << 8);
  ctx.loadSeg('cs', { ...ctx.seg('cs'), selector: sel, base: BigInt(sel << 4) });
  ctx.regs.set('rip', BigInt(entry[0]! | (entry[1]! << 8)));
  ctx.regs.set('rflags', flags & ~(RFLAGS.IF | RFLAGS.TF | RFLAGS.AC | RFLAGS.RF));
  storeSp(ctx, stack.sp, 16);
}

/** The gate checks common to both IDT formats; returns the gate's type. */
function checkGate(ctx: EmuContext, vector: number, raw: bigint, types: readonly number[]): number {
  const g = fields(raw);
  const err = vector * 8 + 2; // IDT bit set, EXT clear
  if (g.s !== 0 || !types.includes(g.type)) throw new GuestException(VEC.GP, err);
  // Software interrupts may only use gates at or above the current privilege.
  if (g.dpl < ctx.mode.cpl) throw new GuestException(VEC.GP, err);
  if (!g.present) throw new GuestException(VEC.NP, err);
  return g.type;
}

/** The gate's code segment: DPL ≤ CPL and present; returns it and the new CPL. */
function gateTarget(ctx: EmuContext, sel: number): { raw: bigint; newCpl: number } {
  const d = loadCodeDescriptor(ctx, sel);
  if (d.dpl > ctx.mode.cpl) throw new GuestException(VEC.GP, selectorError(sel));
  if (!d.present) throw new GuestException(VEC.NP, selectorError(sel));
  return { raw: d.raw, newCpl: isConforming(d) ? ctx.mode.cpl : d.dpl };
}

function deliverLegacy(ctx: EmuContext, vector: number): void {
  const idt = ctx.cpu.dtable('idt');
  if (vector * 8 + 7 > idt.limit) throw new GuestException(VEC.GP, vector * 8 + 2);
  const raw = le64(readSystem(ctx, idt.base + BigInt(vector * 8), 8));
  const type = checkGate(ctx, vector, raw, [GATE.TASK, GATE.INT16, GATE.TRAP16, GATE.INT32, GATE.TRAP32]);
  if (type === GATE.TASK) throw new NotEmulated('task gates are not emulated');
  const gate32 = type === GATE.INT32 || type === GATE.TRAP32;
  const sel = Number((raw >> 16n) & 0xffffn);
  const offset = gate32 ? (raw & 0xffffn) | ((raw >> 32n) & 0xffff0000n) : raw & 0xffffn;
  const { raw: csRaw, newCpl } = gateTarget(ctx, sel);
  const size = gate32 ? 4 : 2;
  const oldSs = ctx.seg('ss');
  const rsp = ctx.regs.get('rsp');
  let stack: Stack;
  let newSs: Segment | null = null;
  if (newCpl < ctx.mode.cpl) {
    const { ss, sp } = innerStackFromTss(ctx, newCpl);
    newSs = ss;
    stack = new Stack(ctx, ss, sp, legacyStackWidth(ss), newCpl);
    stack.push(BigInt(oldSs.selector), size);
    stack.push(BigInt.asUintN(legacyStackWidth(oldSs), rsp), size);
  } else {
    stack = new Stack(ctx, oldSs, rsp, legacyStackWidth(oldSs), newCpl);
  }
  const flags = ctx.regs.get('rflags');
  stack.push(flags, size);
  stack.push(BigInt(ctx.seg('cs').selector), size);
  stack.push(ctx.nextRip, size);
  const cs = toSegment(csRaw, (sel & 0xfffc) | newCpl);
  if (offset > BigInt(cs.limit >>> 0)) throw new GuestException(VEC.GP, 0);
  ctx.loadSeg('cs', cs);
  if (newSs !== null) ctx.loadSeg('ss', newSs);
  storeSp(ctx, stack.sp, stack.width);
  ctx.regs.set('rip', offset);
  ctx.regs.set('rflags', entryFlags(flags, type === GATE.INT16 || type === GATE.INT32));
}

/** SS:ESP for `cpl` from a 32- or 16-bit TSS, with the CPU's #TS/#SS checks. */
function innerStackFromTss(ctx: EmuContext, cpl: number): { ss: Segment; sp: bigint } {
  const tr = ctx.seg('tr');
  const tss32 = (tr.type & 8) !== 0;
  const at = tss32 ? 4 + cpl * 8 : 2 + cpl * 4;
  const len = tss32 ? 6 : 4;
  if (tr.unusable === 1 || at + len - 1 > tr.limit) throw new GuestException(VEC.TS, selectorError(tr.selector));
  const b = readSystem(ctx, tr.base + BigInt(at), len);
  const sp = tss32 ? BigInt((b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0) : BigInt(b[0]! | (b[1]! << 8));
  const sel = tss32 ? b[4]! | (b[5]! << 8) : b[2]! | (b[3]! << 8);
  if ((sel & 0xfffc) === 0) throw new GuestException(VEC.TS, 0);
  if ((sel & 3) !== cpl) throw new GuestException(VEC.TS, selectorError(sel));
  const d = fields(readDescriptor(ctx, sel, VEC.TS));
  if (d.dpl !== cpl || !isWritableData(d)) throw new GuestException(VEC.TS, selectorError(sel));
  if (!d.present) throw new GuestException(VEC.SS, selectorError(sel));
  return { ss: toSegment(d.raw, sel), sp };
}

function deliverLong(ctx: EmuContext, vector: number): void {
  const idt = ctx.cpu.dtable('idt');
  if (vector * 16 + 15 > idt.limit) throw new GuestException(VEC.GP, vector * 8 + 2);
  const gate = readSystem(ctx, idt.base + BigInt(vector * 16), 16);
  const lo = le64(gate, 0), hi = le64(gate, 8);
  const type = checkGate(ctx, vector, lo, [GATE.INT32, GATE.TRAP32]);
  const sel = Number((lo >> 16n) & 0xffffn);
  const offset = (lo & 0xffffn) | ((lo >> 32n) & 0xffff0000n) | ((hi & 0xffffffffn) << 32n);
  const ist = Number((lo >> 32n) & 7n);
  const { raw: csRaw, newCpl } = gateTarget(ctx, sel);
  const cs = toSegment(csRaw, (sel & 0xfffc) | newCpl);
  // The handler must be 64-bit code (L set, D clear).
  if (cs.l !== 1 || cs.db !== 0) throw new GuestException(VEC.GP, selectorError(sel));
  let rsp = ctx.regs.get('rsp');
  if (newCpl < ctx.mode.cpl || ist !== 0) rsp = stackFromTss64(ctx, ist !== 0 ? 36 + (ist - 1) * 8 : 4 + newCpl * 8);
  const oldSs = ctx.seg('ss');
  const stack = new Stack(ctx, oldSs, rsp & ~0xfn, 64, newCpl);
  const flags = ctx.regs.get('rflags');
  stack.push(BigInt(oldSs.selector), 8);
  stack.push(ctx.regs.get('rsp'), 8);
  stack.push(flags, 8);
  stack.push(BigInt(ctx.seg('cs').selector), 8);
  stack.push(ctx.nextRip, 8);
  if (!isCanonical(offset)) throw new GuestException(VEC.GP, 0);
  ctx.loadSeg('cs', cs);
  if (newCpl !== ctx.mode.cpl) ctx.loadSeg('ss', nullStackSegment(newCpl));
  storeSp(ctx, stack.sp, 64);
  ctx.regs.set('rip', offset);
  ctx.regs.set('rflags', entryFlags(flags, type === GATE.INT32));
}

/** RSPn or ISTn from the 64-bit TSS at byte `at`. */
function stackFromTss64(ctx: EmuContext, at: number): bigint {
  const tr = ctx.seg('tr');
  if (tr.unusable === 1 || at + 7 > tr.limit) throw new GuestException(VEC.TS, selectorError(tr.selector));
  return le64(readSystem(ctx, tr.base + BigInt(at), 8));
}
