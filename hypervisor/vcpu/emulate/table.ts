// table.ts: every instruction pvkvm emulates, one module per class.
import { OpcodeTable } from './opcode-table.ts';
import { MXCSR_INSNS } from './classes/mxcsr.ts';
import { X87_INSNS } from './classes/x87.ts';
import { SOFTINT_INSNS } from './classes/softint.ts';
import { IRET_INSNS } from './classes/iret.ts';

export const EMULATED = new OpcodeTable([...MXCSR_INSNS, ...X87_INSNS, ...SOFTINT_INSNS, ...IRET_INSNS]);
