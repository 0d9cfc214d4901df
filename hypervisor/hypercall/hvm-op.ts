// hvm-op.ts: hypercall 34, hvm_op — HVM params with Xen's guest access rules, time, TLB flush.
import { HC } from '../../abi/hypercalls.ts';
import {
  HVMOP, HVM_PARAM, HVM_NR_PARAMS, HVM_PARAM_DEPRECATED, HVM_PARAM_CALLBACK_TYPE, XenHvmParam, XenHvmGetTime,
  XenHvmEvtchnUpcallVector, XenHvmEvtchnUpcallVector32, guestParamAccess,
} from '../../abi/hvm.ts';
import { VcpuInfo64 } from '../../abi/shared-info.ts';
import { offsetOf } from '../../abi/layout.ts';
import { inject } from '../events/raise.ts';
import { upcallPending } from './preempt.ts';
import { neg } from '../../abi/errno.ts';
import { selfDomid, type HypercallContext } from './context.ts';
import { GuestStruct, byMode } from './guest-struct.ts';
import type { HypercallTable } from './table.ts';

const H = HVMOP.values;
/** One layout in both ABIs, each checked against Xen's (abi/hvm.ts). */
const UPCALL_VECTOR = byMode(XenHvmEvtchnUpcallVector, XenHvmEvtchnUpcallVector32);

function paramOp(ctx: HypercallContext, arg: bigint, set: boolean): bigint {
  const op = new GuestStruct(ctx, arg, XenHvmParam);
  const bad = selfDomid(ctx, op.get('domid'));
  if (bad !== null) return bad;
  const index = op.get('index');
  if (index >= HVM_NR_PARAMS || HVM_PARAM_DEPRECATED.includes(index)) return neg('EINVAL');
  const access = guestParamAccess(index);
  if (!set) {
    if (!access.read) return neg('EPERM');
    op.set('value', ctx.dom.shared.param(index));
    op.writeBack();
    return 0n;
  }
  if (access.write === 'no') return neg('EPERM');
  if (access.write === 'eexist') return neg('EEXIST');
  const value = op.getBig('value');
  if (index === HVM_PARAM.values.CALLBACK_IRQ) {
    // Setting the callback latches the shared_info layout from the caller's mode, as Xen does.
    ctx.dom.shared.wordSize = ctx.mode;
    ctx.dom.shared.setParam(index, value);
    setupCallback(ctx, value);
    return 0n;
  }
  ctx.dom.shared.setParam(index, value);
  return 0n;
}

const CALLBACK_TYPE_SHIFT = 56n;

/**
 * HVM_PARAM_CALLBACK_IRQ type 2 (vector): Xen injects the vector on entry with no EOI. Here the
 * in-kernel master PIC, in auto-EOI mode with its base at the vector's block, feeds it to the
 * vCPU through LVT0 ExtINT (docs/host-kvm.md §1), so an event can be delivered from any thread.
 * GSI and PCI INTx callbacks are stored but not delivered (no emulated PCI platform device yet).
 */
function setupCallback(ctx: HypercallContext, value: bigint): void {
  const type = Number(value >> CALLBACK_TYPE_SHIFT);
  const sh = ctx.dom.shared;
  if (value === 0n || type !== HVM_PARAM_CALLBACK_TYPE.values.VECTOR) {
    sh.callbackGsi = -1;
    return;
  }
  const vector = Number(value & 0xffn);
  const line = vector & 7;
  const self = ctx.dom.domains.self();
  const chip = self.vm.getIrqchip(0);
  const pic = 8; // kvm_pic_state inside struct kvm_irqchip
  chip[pic + 2] = 0xff & ~(1 << line); // imr: only our line
  chip[pic + 5] = vector & 0xf8; // irq_base
  chip[pic + 9] = 0; // init_state: initialised
  chip[pic + 10] = 1; // auto_eoi
  chip[pic + 13] = 1; // init4
  chip[pic + 14] &= ~(1 << line); // elcr: edge-triggered
  self.vm.setIrqchip(chip);
  ctx.arch.routePicToLapic();
  sh.callbackGsi = line;
  // Events raised before the callback existed are delivered now.
  if (upcallPending(ctx)) inject(self, ctx.vcpuId);
}

/**
 * Events already pending for the vCPU are delivered through the new vector at once. They are
 * pending in its vcpu_info wherever that is: in shared_info, or where it was registered.
 */
function setUpcallVector(ctx: HypercallContext, arg: bigint): bigint {
  const op = new GuestStruct(ctx, arg, UPCALL_VECTOR);
  const vcpu = op.get('vcpu');
  const vector = op.get('vector');
  if (vector < 0x10) return neg('EINVAL');
  if (vcpu >= ctx.dom.nrVcpus) return neg('ENOENT');
  ctx.dom.shared.setUpcallVector(vcpu, vector);
  const self = ctx.dom.domains.self();
  const vi = self.shared.vcpuInfoOffset(vcpu);
  // evtchn_upcall_pending is byte 0 of vcpu_info in both layouts.
  if (vi >= 0 && Atomics.load(self.u8, vi + offsetOf(VcpuInfo64, 'evtchn_upcall_pending')) !== 0) inject(self, vcpu);
  return 0n;
}

export function hvmOp(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = Number(args[0]! & 0xffffffffn);
  const arg = args[1]!;
  switch (cmd) {
    case H.set_param: return paramOp(ctx, arg, true);
    case H.get_param: return paramOp(ctx, arg, false);
    case H.get_time: {
      const out = GuestStruct.blank(ctx, arg, XenHvmGetTime);
      out.set('now', ctx.dom.now());
      out.writeBack();
      return 0n;
    }
    case H.set_evtchn_upcall_vector:
      return setUpcallVector(ctx, arg);
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
