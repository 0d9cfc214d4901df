// softint.ts: INT n, INT3 and INTO — software interrupts through the guest's IDT (interrupt-delivery.ts).
import type { InsnSpec } from '../insn.ts';
import { RFLAGS } from '../mode.ts';
import { VEC } from '../errors.ts';
import { deliverSoftwareInterrupt } from './interrupt-delivery.ts';

export const SOFTINT_INSNS: readonly InsnSpec[] = [
  { name: 'int', map: 0, op: 0xcd, imm: 1, exec: (ctx, insn) => deliverSoftwareInterrupt(ctx, insn.imm) },
  { name: 'int3', map: 0, op: 0xcc, exec: (ctx) => deliverSoftwareInterrupt(ctx, VEC.BP) },
  {
    // #OF as a trap, only when OF is set; invalid in 64-bit mode.
    name: 'into', map: 0, op: 0xce, not64: true,
    exec(ctx) {
      if ((ctx.regs.get('rflags') & RFLAGS.OF) !== 0n) deliverSoftwareInterrupt(ctx, VEC.OF);
    },
  },
];
