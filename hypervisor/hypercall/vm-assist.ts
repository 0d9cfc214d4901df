// vm-assist.ts: hypercall 21, vm_assist — HVM guests may only toggle runstate_update_flag.
import { HC } from '../../abi/hypercalls.ts';
import { VMASST } from '../../abi/multicall.ts';
import { neg } from '../../abi/errno.ts';
import type { HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';

const A = VMASST.values;
/** Xen's HVM_VM_ASSIST_MASK: the only assist an HVM/PVH guest can use. */
const HVM_VALID = 1 << A.TYPE_runstate_update_flag;

export function vmAssist(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = args[0]!;
  const type = args[1]!;
  if (type >= BigInt(ctx.mode) || (HVM_VALID & (1 << Number(type))) === 0) return neg('EINVAL');
  const bit = 1 << Number(type);
  if (cmd === BigInt(A.CMD_enable)) ctx.dom.shared.vmAssist = ctx.dom.shared.vmAssist | bit;
  else if (cmd === BigInt(A.CMD_disable)) ctx.dom.shared.vmAssist = ctx.dom.shared.vmAssist & ~bit;
  else return neg('ENOSYS');
  return 0n;
}

export function registerVmAssist(table: HypercallTable): void {
  table.register(HC.vm_assist, 'vm_assist', vmAssist);
}
