// insn.ts: a decoded instruction and the table entries that describe what pvkvm emulates.
import type { SegName } from './cpu-port.ts';
import type { EmuContext } from './context.ts';

/** The SSE mandatory prefix: the last of F2/F3, else 66, else none. */
export type MandatoryPrefix = 'none' | '66' | 'F3' | 'F2';

/** 0: one-byte opcodes, 1: 0F xx, 2: 0F 38 xx, 3: 0F 3A xx. */
export type OpcodeMap = 0 | 1 | 2 | 3;

export interface InsnSpec {
  /** Mnemonic, for reports and tests. */
  readonly name: string;
  readonly map: OpcodeMap;
  readonly op: number;
  /** Mandatory prefix (SSE encodings). Omitted: prefixes only set operand/address size. */
  readonly prefix?: MandatoryPrefix;
  /** The instruction has a ModRM byte (implied by reg, form and modrm). */
  readonly hasModrm?: boolean;
  /** ModRM.reg must be this (group opcodes such as 0F AE /2). */
  readonly reg?: number;
  /** Only a memory operand, or only a register operand, is this instruction. */
  readonly form?: 'mem' | 'reg';
  /** The whole ModRM byte (x87 register forms such as D9 D0). */
  readonly modrm?: number;
  /** Immediate bytes after ModRM/displacement. */
  readonly imm?: 1 | 2 | 4;
  /** Invalid in 64-bit mode (#UD), as INTO is. */
  readonly not64?: boolean;
  readonly exec: (ctx: EmuContext, insn: Insn) => void;
}

/** A memory operand before segmentation: base + index * scale + disp (or RIP + disp). */
export interface MemOperand {
  /** Register number 0–15, or null. */
  readonly base: number | null;
  readonly index: number | null;
  readonly scale: 1 | 2 | 4 | 8;
  /** Sign-extended displacement. */
  readonly disp: bigint;
  readonly ripRelative: boolean;
  /** SS for BP/SP-based forms, else DS; an override prefix wins. */
  readonly seg: SegName;
}

export interface Insn {
  readonly spec: InsnSpec;
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly opSize: 16 | 32 | 64;
  readonly addrSize: 16 | 32 | 64;
  /** The REX byte, or 0. */
  readonly rex: number;
  readonly mod: number;
  /** ModRM.reg and .rm extended by REX.R and REX.B (0–15). */
  readonly reg: number;
  readonly rm: number;
  readonly mem: MemOperand | null;
  /** The immediate, zero-extended. */
  readonly imm: number;
}

export const REX_W = 8, REX_R = 4, REX_X = 2, REX_B = 1;
