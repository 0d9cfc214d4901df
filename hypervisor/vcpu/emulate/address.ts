// address.ts: effective addresses and segmentation — from a memory operand to a checked linear address.
import type { Segment, SegName } from './cpu-port.ts';
import type { CpuMode } from './mode.ts';
import type { RegFile } from './registers.ts';
import type { Insn, MemOperand } from './insn.ts';
import { GuestException, VEC } from './errors.ts';

/** base + index * scale + disp, wrapped to the address size (RIP-relative from the next instruction). */
export function effectiveAddress(mem: MemOperand, addrSize: 16 | 32 | 64, regs: RegFile, nextRip: bigint): bigint {
  let ea = mem.disp;
  if (mem.ripRelative) ea += nextRip;
  if (mem.base !== null) ea += regs.gpr(mem.base, 8);
  if (mem.index !== null) ea += regs.gpr(mem.index, 8) * BigInt(mem.scale);
  return BigInt.asUintN(addrSize, ea);
}

/** 48-bit canonical: bits 63:47 all equal. */
export function isCanonical(linear: bigint): boolean {
  const top = linear >> 47n;
  return top === 0n || top === (1n << 17n) - 1n;
}

export type SegAccess = 'read' | 'write';

/** The fault for a bad access through `seg`: #SS(0) for the stack segment, else #GP(0). */
export function segFault(seg: SegName): GuestException {
  return new GuestException(seg === 'ss' ? VEC.SS : VEC.GP, 0);
}

/**
 * Apply segmentation to an offset: base, type and limit checks outside 64-bit mode, FS/GS bases
 * and the canonical check in it.
 */
export function segmentedAddress(
  mode: CpuMode, segName: SegName, seg: Segment, offset: bigint, size: number, access: SegAccess,
): bigint {
  if (mode.bits === 64) {
    const base = segName === 'fs' || segName === 'gs' ? seg.base : 0n;
    const linear = BigInt.asUintN(64, base + offset);
    const last = BigInt.asUintN(64, linear + BigInt(size - 1));
    if (!isCanonical(linear) || !isCanonical(last)) throw segFault(segName);
    return linear;
  }
  if (!mode.real && !mode.v86) checkSegmentType(segName, seg, access);
  checkLimit(segName, seg, offset, size);
  return BigInt.asUintN(32, seg.base + offset);
}

function checkSegmentType(segName: SegName, seg: Segment, access: SegAccess): void {
  if (seg.unusable === 1 || seg.present === 0) throw segFault(segName);
  const code = (seg.type & 8) !== 0;
  if (access === 'write' && (code || (seg.type & 2) === 0)) throw segFault(segName);
  if (access === 'read' && code && (seg.type & 2) === 0) throw segFault(segName);
}

function checkLimit(segName: SegName, seg: Segment, offset: bigint, size: number): void {
  const last = offset + BigInt(size - 1);
  const limit = BigInt(seg.limit >>> 0);
  const expandDown = (seg.type & 8) === 0 && (seg.type & 4) !== 0;
  if (expandDown) {
    const upper = seg.db === 1 ? 0xffffffffn : 0xffffn;
    if (offset <= limit || last > upper) throw segFault(segName);
  } else if (last > limit) {
    throw segFault(segName);
  }
}

/** The linear address of an instruction's memory operand. */
export function operandAddress(
  mode: CpuMode, insn: Insn, regs: RegFile, nextRip: bigint, seg: (n: SegName) => Segment, size: number,
  access: SegAccess,
): bigint {
  const mem = insn.mem;
  if (mem === null) throw new Error('operandAddress on a register operand');
  const offset = effectiveAddress(mem, insn.addrSize, regs, nextRip);
  return segmentedAddress(mode, mem.seg, seg(mem.seg), offset, size, access);
}
