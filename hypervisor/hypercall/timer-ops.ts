// timer-ops.ts: hypercall 15 set_timer_op, and hypercall 24 vcpu_op (timers and vCPU queries).
import { HC } from '../../abi/hypercalls.ts';
import { VCPUOP, VcpuSetSingleshotTimer, VcpuSetPeriodicTimer } from '../../abi/vcpu.ts';
import { neg } from '../../abi/errno.ts';
import type { HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';
import { setSingleshot, setPeriodic } from '../time/timers.ts';

const OP = VCPUOP.values;
/** Deadlines further out than ~2^50 ns (or negative) are treated as 100 ms from now, as in Xen. */
const TOO_FAR_NS = 1n << 50n;
const FALLBACK_NS = 100_000_000n;
const MIN_PERIOD_NS = 1_000_000n;

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

export function vcpuOp(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = Number(args[0]! & 0xffffffffn);
  const vcpu = Number(args[1]! & 0xffffffffn);
  const arg = args[2]!;
  if (vcpu >= ctx.dom.nrVcpus) return neg('ENOENT');
  switch (cmd) {
    case OP.is_up:
      // Only the boot vCPU runs until secondary vCPUs are brought up.
      return vcpu === 0 ? 1n : 0n;
    case OP.set_singleshot_timer: {
      if (vcpu !== ctx.vcpuId) return neg('EINVAL');
      const v = ctx.guest.readView(arg, VcpuSetSingleshotTimer.size);
      // Xen ignores VCPU_SSHOTTMR_future nowadays: a past deadline simply fires at once.
      const deadline = v.getBigUint64(0, true);
      arm(ctx, deadline === 0n ? 1n : deadline);
      return 0n;
    }
    case OP.stop_singleshot_timer:
      if (vcpu !== ctx.vcpuId) return neg('EINVAL');
      arm(ctx, 0n);
      return 0n;
    case OP.set_periodic_timer: {
      if (vcpu !== ctx.vcpuId) return neg('EINVAL');
      const period = ctx.guest.readView(arg, VcpuSetPeriodicTimer.size).getBigUint64(0, true);
      if (period < MIN_PERIOD_NS || period > TOO_FAR_NS) return neg('EINVAL');
      setPeriodic(ctx.dom.domains.hv, ctx.dom.shared, vcpu, period, ctx.dom.now());
      return 0n;
    }
    case OP.stop_periodic_timer:
      if (vcpu !== ctx.vcpuId) return neg('EINVAL');
      setPeriodic(ctx.dom.domains.hv, ctx.dom.shared, vcpu, 0n, 0n);
      return 0n;
    case OP.get_physid:
      return neg('EINVAL'); // hardware domain only
    default:
      // initialise/up/down, runstate areas and register_vcpu_info arrive with SMP support.
      return neg('ENOSYS');
  }
}

export function registerTimerOps(table: HypercallTable): void {
  table.register(HC.set_timer_op, 'set_timer_op', setTimerOp);
  table.register(HC.vcpu_op, 'vcpu_op', vcpuOp);
}
