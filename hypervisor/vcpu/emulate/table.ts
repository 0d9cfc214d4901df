// table.ts: every instruction pvkvm emulates, one module per class.
import { OpcodeTable } from './opcode-table.ts';
import { MXCSR_INSNS } from './classes/mxcsr.ts';
import { X87_INSNS } from './classes/x87.ts';
import { SOFTINT_INSNS } from './classes/softint.ts';
import { IRET_INSNS } from './classes/iret.ts';
import { SSE_MOVE_INSNS } from './classes/sse-move.ts';
import { SSE_LOGIC_INSNS } from './classes/sse-logic.ts';
import { SSE_INT_INSNS } from './classes/sse-int.ts';
import { SSE_SHIFT_INSNS } from './classes/sse-shift.ts';
import { SSE_SHUFFLE_INSNS } from './classes/sse-shuffle.ts';
import { SSE_ARITH_INSNS } from './classes/sse-arith.ts';
import { SSE_COMPARE_INSNS } from './classes/sse-compare.ts';
import { SSE_CONVERT_INSNS } from './classes/sse-convert.ts';

export const EMULATED = new OpcodeTable([
  ...MXCSR_INSNS, ...X87_INSNS, ...SOFTINT_INSNS, ...IRET_INSNS,
  ...SSE_MOVE_INSNS, ...SSE_LOGIC_INSNS, ...SSE_INT_INSNS, ...SSE_SHIFT_INSNS, ...SSE_SHUFFLE_INSNS,
  ...SSE_ARITH_INSNS, ...SSE_COMPARE_INSNS, ...SSE_CONVERT_INSNS,
]);
