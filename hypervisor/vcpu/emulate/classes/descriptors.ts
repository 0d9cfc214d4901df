// descriptors.ts: reading GDT/LDT/IDT/TSS entries as the CPU does during interrupt delivery and IRET.
import type { Segment } from '../cpu-port.ts';
import type { EmuContext } from '../context.ts';
import { GuestException, VEC } from '../errors.ts';

/** Descriptor reads are supervisor accesses whatever the CPL. */
const IMPLICIT = { write: false, user: false, implicit: true } as const;

/** Error code naming a selector (EXT = 0: the event came from the instruction). */
export const selectorError = (sel: number): number => sel & 0xfffc;

/** The raw 8-byte descriptor for `sel`, or the fault the CPU raises (`vector`, error code = selector). */
export function readDescriptor(ctx: EmuContext, sel: number, vector: number = VEC.GP): bigint {
  const table = (sel & 4) !== 0 ? ldt(ctx) : ctx.cpu.dtable('gdt');
  const offset = sel & 0xfff8;
  if (offset + 7 > table.limit) throw new GuestException(vector, selectorError(sel));
  return le64(ctx.mem.read(BigInt.asUintN(64, table.base + BigInt(offset)), 8, IMPLICIT));
}

function ldt(ctx: EmuContext): { base: bigint; limit: number } {
  const l = ctx.seg('ldt');
  return l.unusable === 1 || l.present === 0 ? { base: 0n, limit: -1 } : { base: l.base, limit: l.limit };
}

/** Read `len` bytes of a system structure (IDT, TSS) at a linear address. */
export function readSystem(ctx: EmuContext, linear: bigint, len: number): Uint8Array {
  return ctx.mem.read(BigInt.asUintN(64, linear), len, IMPLICIT);
}

export function le64(b: Uint8Array, at = 0): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
}

/** A segment/gate descriptor's fields. */
export interface Descriptor {
  readonly raw: bigint;
  readonly type: number;
  /** S: code/data (1) or system (0). */
  readonly s: number;
  readonly dpl: number;
  readonly present: boolean;
}

export function fields(raw: bigint): Descriptor {
  const hi = Number(raw >> 32n);
  return { raw, type: (hi >> 8) & 0xf, s: (hi >> 12) & 1, dpl: (hi >> 13) & 3, present: ((hi >> 15) & 1) === 1 };
}

export const isCode = (d: Descriptor): boolean => d.s === 1 && (d.type & 8) !== 0;
export const isConforming = (d: Descriptor): boolean => isCode(d) && (d.type & 4) !== 0;
export const isWritableData = (d: Descriptor): boolean => d.s === 1 && (d.type & 8) === 0 && (d.type & 2) !== 0;

/** The hidden part of a segment register loaded from a code/data descriptor (KVM's format). */
export function toSegment(raw: bigint, selector: number): Segment {
  const lo = Number(raw & 0xffffffffn), hi = Number(raw >> 32n);
  const g = (hi >> 23) & 1;
  const rawLimit = (lo & 0xffff) | (hi & 0xf0000);
  return {
    base: BigInt(((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0),
    limit: g === 1 ? ((rawLimit << 12) | 0xfff) >>> 0 : rawLimit,
    selector, type: (hi >> 8) & 0xf, present: (hi >> 15) & 1, dpl: (hi >> 13) & 3, db: (hi >> 22) & 1,
    s: (hi >> 12) & 1, l: (hi >> 21) & 1, g, avl: (hi >> 20) & 1, unusable: 0,
  };
}

/**
 * The code segment an interrupt gate or IRET names: not null (#GP(0)), inside its table and a
 * code segment (#GP(selector)). The caller checks DPL and presence, whose rules differ.
 */
export function loadCodeDescriptor(ctx: EmuContext, sel: number): Descriptor {
  if ((sel & 0xfffc) === 0) throw new GuestException(VEC.GP, 0);
  const d = fields(readDescriptor(ctx, sel));
  if (!isCode(d)) throw new GuestException(VEC.GP, selectorError(sel));
  return d;
}

/** What a null selector loads (KVM's format): unusable, with the RPL kept in the selector. */
export function nullSegment(rpl: number, base = 0n): Segment {
  return { base, limit: 0, selector: rpl, type: 0, present: 0, dpl: 0, db: 0, s: 0, l: 0, g: 0, avl: 0, unusable: 1 };
}

/**
 * SS after a 64-bit privilege change, which loads a null selector with RPL = the new CPL: kept
 * usable, flat and writable with DPL = CPL, because KVM takes the CPL from SS.DPL.
 */
export function nullStackSegment(cpl: number): Segment {
  return { base: 0n, limit: 0xffffffff, selector: cpl, type: 3, present: 1, dpl: cpl, db: 1, s: 1, l: 0, g: 1, avl: 0, unusable: 0 };
}
