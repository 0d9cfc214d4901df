// set-timer-op.ts: hypercall 15, set_timer_op — the vCPU's one-shot timer by absolute deadline.
import { HC } from '../../abi/hypercalls.ts';
import type { HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';
import { setSingleshot, TOO_FAR_NS } from '../time/timers.ts';

const FALLBACK_NS = 100_000_000n;

function arm(ctx: HypercallContext, deadline: bigint): void {
  setSingleshot(ctx.dom.domains.hv, ctx.dom.shared, ctx.vcpuId, deadline);
}

export function setTimerOp(ctx: HypercallContext, args: readonly bigint[]): bigint {
  // 32-bit callers pass the u64 timeout split over two registers (low, high).
  const timeout = ctx.mode === 64 ? args[0]! : args[0]! | (args[1]! << 32n);
  if (timeout === 0n) {
    arm(ctx, 0n);
    return 0n;
  }
  const now = ctx.dom.now();
  const signed = BigInt.asIntN(64, timeout);
  // A deadline in the past is kept: it fires at once.
  arm(ctx, signed < 0n || signed > now + TOO_FAR_NS ? now + FALLBACK_NS : signed);
  return 0n;
}

export function registerSetTimerOp(table: HypercallTable): void {
  table.register(HC.set_timer_op, 'set_timer_op', setTimerOp);
}
