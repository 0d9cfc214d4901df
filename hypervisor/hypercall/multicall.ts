// multicall.ts: hypercall 13, multicall — run a batch of hypercalls, each result written back.
import { HC } from '../../abi/hypercalls.ts';
import { MulticallEntry } from '../../abi/multicall.ts';
import { neg } from '../../abi/errno.ts';
import type { HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';

/** Entry layout: 64-bit guests use u64 words (64 bytes); compat guests u32 words (32 bytes). */
function entrySize(ctx: HypercallContext): number {
  return ctx.mode === 64 ? MulticallEntry.size : MulticallEntry.size / 2;
}

export function makeMulticall(table: HypercallTable) {
  return function multicall(ctx: HypercallContext, args: readonly bigint[]): bigint {
    if (ctx.depth > 0) return neg('EINVAL');
    const list = args[0]!;
    const nr = Number(args[1]! & 0xffffffffn);
    const size = entrySize(ctx);
    const word = size / 8;
    const inner: HypercallContext = { ...ctx, depth: ctx.depth + 1 };
    for (let i = 0; i < nr; i++) {
      // Stop early if the domain is being paused/destroyed or began shutting down mid-batch.
      if (ctx.stopRequested() || ctx.dom.shared.shutdownReason >= 0) return 0n;
      const at = list + BigInt(i * size);
      // Copy the whole entry once, then use only the copy (no double fetch).
      const v = ctx.guest.readView(at, size);
      const get = (k: number): bigint => (word === 8 ? v.getBigUint64(k * 8, true) : BigInt(v.getUint32(k * 4, true)));
      const op = get(0);
      const callArgs = [get(2), get(3), get(4), get(5), get(6), get(7)];
      const result = op === BigInt(HC.multicall) ? neg('EINVAL') : table.dispatch(inner, op, callArgs);
      const out = new DataView(new ArrayBuffer(word));
      if (word === 8) out.setBigUint64(0, BigInt.asUintN(64, result), true);
      else out.setUint32(0, Number(BigInt.asUintN(32, result)), true);
      ctx.guest.writeView(at + BigInt(word), out);
    }
    return 0n;
  };
}

export function registerMulticall(table: HypercallTable): void {
  table.register(HC.multicall, 'multicall', makeMulticall(table));
}
