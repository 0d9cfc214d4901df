// hvm-op.ts: hypercall 34, hvm_op — HVM params with Xen's guest access rules, time, TLB flush.
import { HC } from '../../abi/hypercalls.ts';
import { HVMOP, HVM_PARAM, HVM_NR_PARAMS, HVM_PARAM_DEPRECATED, XenHvmParam, guestParamAccess } from '../../abi/hvm.ts';
import { readNum } from '../../abi/layout.ts';
import { neg } from '../../abi/errno.ts';
import { selfDomid, type HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';

const H = HVMOP.values;

function paramOp(ctx: HypercallContext, arg: bigint, set: boolean): bigint {
  const v = ctx.guest.readView(arg, XenHvmParam.size);
  const bad = selfDomid(ctx, readNum(v, 0, XenHvmParam, 'domid'));
  if (bad !== null) return bad;
  const index = readNum(v, 0, XenHvmParam, 'index');
  if (index >= HVM_NR_PARAMS || HVM_PARAM_DEPRECATED.includes(index)) return neg('EINVAL');
  const access = guestParamAccess(index);
  const off = XenHvmParam.byName.value.offset;
  if (!set) {
    if (!access.read) return neg('EPERM');
    v.setBigUint64(off, BigInt.asUintN(64, ctx.dom.shared.param(index)), true);
    ctx.guest.writeView(arg, v);
    return 0n;
  }
  if (access.write === 'no') return neg('EPERM');
  if (access.write === 'eexist') return neg('EEXIST');
  const value = v.getBigUint64(off, true);
  if (index === HVM_PARAM.values.CALLBACK_IRQ) {
    // Setting the callback latches the shared_info layout from the caller's mode, as Xen does.
    ctx.dom.shared.wordSize = ctx.mode;
  }
  ctx.dom.shared.setParam(index, value);
  return 0n;
}

export function hvmOp(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = Number(args[0]! & 0xffffffffn);
  const arg = args[1]!;
  switch (cmd) {
    case H.set_param: return paramOp(ctx, arg, true);
    case H.get_param: return paramOp(ctx, arg, false);
    case H.get_time: {
      const v = new DataView(new ArrayBuffer(8));
      v.setBigUint64(0, ctx.dom.now(), true);
      ctx.guest.writeView(arg, v);
      return 0n;
    }
    case H.flush_tlbs:
      // Every vCPU reloads its TLB on the next entry anyway; the argument must be NULL.
      return arg === 0n ? 0n : neg('EINVAL');
    default:
      return neg('ENOSYS');
  }
}

export function registerHvmOp(table: HypercallTable): void {
  table.register(HC.hvm_op, 'hvm_op', hvmOp);
}
