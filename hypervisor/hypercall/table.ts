// table.ts: the fixed hypercall dispatch table; one family module registers each number once.
import { GuestFault } from '../memory/guest-access.ts';
import { neg } from '../../abi/errno.ts';
import { HYPERCALL_PAGE, HC } from '../../abi/hypercalls.ts';
import { DOMU_HYPERCALL_ANSWERS } from '../../abi/hypercall-answers.ts';
import type { HypercallContext } from './context.ts';

export type HypercallHandler = (ctx: HypercallContext, args: readonly bigint[]) => bigint;

interface Entry {
  readonly name: string;
  readonly handler: HypercallHandler;
}

export class HypercallTable {
  private readonly entries: Array<Entry | undefined> = new Array(HYPERCALL_PAGE.values.NR_STUBS);
  /**
   * Calls per hypercall number, for statistics: by default private; a vCPU thread passes its slice
   * of the domain's shared counters (stats.ts) so `pvkvm info` reads them live.
   */
  readonly counts: Float64Array;

  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(HYPERCALL_PAGE.values.NR_STUBS);
  }

  register(nr: number, name: string, handler: HypercallHandler): void {
    if (!Number.isInteger(nr) || nr < 0 || nr >= this.entries.length) throw new Error(`hypercall ${name}: bad number ${nr}`);
    const old = this.entries[nr];
    if (old !== undefined) throw new Error(`hypercall ${nr} registered twice (${old.name}, ${name})`);
    this.entries[nr] = { name, handler };
  }

  name(nr: number): string | undefined {
    return this.entries[nr]?.name;
  }

  /**
   * Run hypercall `nr`. A number without a handler answers what Xen answers a domU for it
   * (abi/hypercall-answers.ts: -EPERM, -EOPNOTSUPP or -ENOSYS); a guest pointer that faults
   * anywhere in the handler answers -EFAULT. Host-side exceptions propagate: they are pvkvm bugs.
   */
  dispatch(ctx: HypercallContext, nr: bigint, args: readonly bigint[]): bigint {
    const e = nr >= 0n && nr < BigInt(this.entries.length) ? this.entries[Number(nr)] : undefined;
    if (e === undefined) return unimplementedAnswer(nr);
    this.counts[Number(nr)]! += 1;
    try {
      return e.handler(ctx, args);
    } catch (err) {
      if (err instanceof GuestFault) return neg('EFAULT');
      throw err;
    }
  }
}

/** Xen's answer to a domU for a number pvkvm has no handler for. */
const ANSWER_BY_NUMBER = new Map<number, bigint>(
  Object.entries(DOMU_HYPERCALL_ANSWERS)
    .filter(([, a]) => a !== 'implemented')
    .map(([name, a]) => [HC[name as keyof typeof HC], neg(a as Exclude<typeof a, 'implemented'>)]),
);

function unimplementedAnswer(nr: bigint): bigint {
  return (nr >= 0n && nr < 0x10000n ? ANSWER_BY_NUMBER.get(Number(nr)) : undefined) ?? neg('ENOSYS');
}
