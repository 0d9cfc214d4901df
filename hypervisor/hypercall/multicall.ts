// multicall.ts: hypercall 13, multicall — run a batch of hypercalls, each result written back.
import { HC } from '../../abi/hypercalls.ts';
import { MulticallEntry, MulticallEntry32 } from '../../abi/multicall.ts';
import { neg } from '../../abi/errno.ts';
import type { HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';
import { GuestStruct, byMode, layoutFor } from './guest-struct.ts';

/** Every word of an entry is a xen_ulong_t: 64 bytes per entry for 64-bit callers, 32 for compat. */
const ENTRY = byMode(MulticallEntry, MulticallEntry32);
const NR_ARGS = MulticallEntry.byName.args.count;

export function makeMulticall(table: HypercallTable) {
  return function multicall(ctx: HypercallContext, args: readonly bigint[]): bigint {
    if (ctx.depth > 0) return neg('EINVAL');
    const list = args[0]!;
    const nr = Number(args[1]! & 0xffffffffn);
    const size = layoutFor(ctx, ENTRY).size;
    // An entry cannot be re-issued on its own (Xen continues the whole multicall instead): the
    // calls inside run to completion.
    const inner: HypercallContext = { ...ctx, depth: ctx.depth + 1, createContinuation: undefined };
    for (let i = 0; i < nr; i++) {
      // Stop early if the domain is being paused/destroyed or began shutting down mid-batch.
      if (ctx.stopRequested() || ctx.dom.shared.shutdownReason >= 0) return 0n;
      // Copy the whole entry once, then use only the copy (no double fetch).
      const entry = new GuestStruct(ctx, list + BigInt(i * size), ENTRY);
      const op = entry.getBig('op');
      const callArgs = Array.from({ length: NR_ARGS }, (_, k) => entry.getBig('args', k));
      entry.set('result', op === BigInt(HC.multicall) ? neg('EINVAL') : table.dispatch(inner, op, callArgs));
      // Only the result field goes back, as in Xen.
      entry.writeBackField('result');
    }
    return 0n;
  };
}

export function registerMulticall(table: HypercallTable): void {
  table.register(HC.multicall, 'multicall', makeMulticall(table));
}
