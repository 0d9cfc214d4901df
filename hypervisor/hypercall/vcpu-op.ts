// vcpu-op.ts: hypercall 24 vcpu_op — bring-up (initialise/up/down), timers and vcpu_info.
import { HC } from '../../abi/hypercalls.ts';
import {
  VCPUOP, VCPU_HVM_MODE, VcpuSetSingleshotTimer, VcpuSetSingleshotTimer32, VcpuSetPeriodicTimer, VcpuHvmContext,
  VcpuRegisterVcpuInfo, VcpuSetPeriodicTimer32, VcpuRegisterVcpuInfo32,
} from '../../abi/vcpu.ts';
import { VcpuInfo32, VcpuInfo64 } from '../../abi/shared-info.ts';
import { fieldSize } from '../../abi/layout.ts';
import { VCPU_FLAG } from '../state/shared-state.ts';
import { validHvmContext32, validHvmContext64 } from '../boot/cpu-state.ts';
import { markVcpuPending } from '../events/raise.ts';
import { neg } from '../../abi/errno.ts';
import { SHUTDOWN } from '../../abi/sched.ts';
import type { HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';
import { GuestStruct, byMode } from './guest-struct.ts';
import { setSingleshot, setPeriodic, TOO_FAR_NS } from '../time/timers.ts';

const OP = VCPUOP.values;
const MIN_PERIOD_NS = 1_000_000n;
const PAGE = 4096;
/** i386 aligns the u64 deadline to 4, so a 32-bit caller's struct has no tail padding (12 bytes). */
const SINGLESHOT = byMode(VcpuSetSingleshotTimer, VcpuSetSingleshotTimer32);
/** One layout in both ABIs, each checked against Xen's (abi/vcpu.ts). */
const PERIODIC_TIMER = byMode(VcpuSetPeriodicTimer, VcpuSetPeriodicTimer32);
const REGISTER_VCPU_INFO = byMode(VcpuRegisterVcpuInfo, VcpuRegisterVcpuInfo32);
/** Both vcpu_info layouts are 64 bytes. */
const VCPU_INFO_SIZE = VcpuInfo64.size;

function arm(ctx: HypercallContext, deadline: bigint): void {
  setSingleshot(ctx.dom.domains.hv, ctx.dom.shared, ctx.vcpuId, deadline);
}

/** VCPUOP_initialise: validate a vcpu_hvm_context (32B or 64B) and queue it for the vCPU's thread. */
function initialise(ctx: HypercallContext, vcpu: number, arg: bigint): bigint {
  const c = new GuestStruct(ctx, arg, VcpuHvmContext);
  const v = c.view;
  const mode = c.get('mode');
  const sh = ctx.dom.shared;
  if ((sh.vcpuFlags(vcpu) & VCPU_FLAG.INITIALISED) !== 0) return neg('EEXIST');
  // Xen answers an unknown mode with -EINVAL. (32-bit code with paging is unreliable on this
  // host's KVM, docs/host-kvm.md §1, but the context itself is accepted as Xen does.)
  if (mode === VCPU_HVM_MODE.values['64B']) {
    if (!validHvmContext64(v)) return neg('EINVAL');
  } else if (mode === VCPU_HVM_MODE.values['32B']) {
    if (!validHvmContext32(v)) return neg('EINVAL');
  } else {
    return neg('EINVAL');
  }
  sh.storeContext(vcpu, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  sh.setVcpuFlags(vcpu, VCPU_FLAG.INITIALISED | VCPU_FLAG.CONTEXT_PENDING);
  return 0n;
}

/**
 * VCPUOP_register_vcpu_info: move a vCPU's vcpu_info into guest RAM (needed for vCPUs ≥ 32).
 * The 64 bytes must not cross a page; one registration per vCPU; the old contents are copied,
 * then every selector bit and the upcall flag are set so the guest rescans its ports.
 */
function registerVcpuInfo(ctx: HypercallContext, vcpu: number, arg: bigint): bigint {
  const op = new GuestStruct(ctx, arg, REGISTER_VCPU_INFO);
  const gfn = op.getBig('mfn');
  const offset = op.get('offset');
  if (offset > PAGE - VCPU_INFO_SIZE || gfn >= 1n << 40n) return neg('EINVAL');
  const sh = ctx.dom.shared;
  if (sh.registeredVcpuInfo(vcpu)) return neg('EBUSY');
  const gpa = Number(gfn) * PAGE + offset;
  if (!ctx.dom.mem.isRam(gpa, VCPU_INFO_SIZE)) return neg('EINVAL');
  const target = ctx.dom.mem.offsetOf(gpa, VCPU_INFO_SIZE);
  const bytes = ctx.dom.mem.bytes;
  const old = sh.vcpuInfoOffset(vcpu);
  if (old >= 0) bytes.copyWithin(target, old, old + VCPU_INFO_SIZE);
  else bytes.fill(0, target, target + VCPU_INFO_SIZE);
  sh.setVcpuInfoOffset(vcpu, target);
  // The selector is a xen_ulong_t: its width follows the latched shared_info layout.
  const sel = (sh.wordSize === 32 ? VcpuInfo32 : VcpuInfo64).byName.evtchn_pending_sel;
  const view = new Int32Array(bytes.buffer, bytes.byteOffset + target + sel.offset, fieldSize(sel) / 4);
  for (let i = 0; i < view.length; i++) Atomics.store(view, i, -1);
  markVcpuPending(ctx.dom.domains.self(), vcpu);
  return 0n;
}

/**
 * VCPUOP_down, as Xen's do_vcpu_op: the last vCPU going down powers the domain off (nothing could
 * ever up it again); otherwise the vCPU stops at its next exit (vcpu_sleep_nosync) — a vCPU
 * blocked in SCHEDOP_block/poll is woken out of it by the flag change — and stays stopped until
 * VCPUOP_up. Downing a vCPU that is already down succeeds.
 */
function down(ctx: HypercallContext, vcpu: number): bigint {
  const sh = ctx.dom.shared;
  let othersUp = false;
  for (let v = 0; v < ctx.dom.nrVcpus; v++) if (v !== vcpu && (sh.vcpuFlags(v) & VCPU_FLAG.UP) !== 0) othersUp = true;
  if (!othersUp) {
    const effective = sh.beginShutdown(SHUTDOWN.values.poweroff);
    if (effective !== null) ctx.dom.shutdown(effective);
    return 0n;
  }
  sh.setVcpuFlags(vcpu, 0, VCPU_FLAG.UP);
  if (vcpu !== ctx.vcpuId) ctx.dom.kickVcpu(vcpu);
  return 0n;
}

export function vcpuOp(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = Number(args[0]! & 0xffffffffn);
  const vcpu = Number(args[1]! & 0xffffffffn);
  const arg = args[2]!;
  if (vcpu >= ctx.dom.nrVcpus) return neg('ENOENT');
  switch (cmd) {
    case OP.initialise:
      return initialise(ctx, vcpu, arg);
    case OP.up: {
      // Xen: -EINVAL before VCPUOP_initialise; upping an up vCPU is a no-op. A downed vCPU
      // resumes where it stopped (its VCPUOP_down returns 0 on its own thread).
      const flags = ctx.dom.shared.vcpuFlags(vcpu);
      if ((flags & VCPU_FLAG.INITIALISED) === 0) return neg('EINVAL');
      ctx.dom.shared.setVcpuFlags(vcpu, VCPU_FLAG.UP);
      return 0n;
    }
    case OP.down:
      return down(ctx, vcpu);
    case OP.is_up:
      return (ctx.dom.shared.vcpuFlags(vcpu) & VCPU_FLAG.UP) !== 0 ? 1n : 0n;
    case OP.register_vcpu_info:
      return registerVcpuInfo(ctx, vcpu, arg);
    case OP.set_singleshot_timer: {
      if (vcpu !== ctx.vcpuId) return neg('EINVAL');
      // Xen ignores VCPU_SSHOTTMR_future nowadays: a past deadline simply fires at once.
      const deadline = new GuestStruct(ctx, arg, SINGLESHOT).getBig('timeout_abs_ns');
      arm(ctx, deadline === 0n ? 1n : deadline);
      return 0n;
    }
    case OP.stop_singleshot_timer:
      if (vcpu !== ctx.vcpuId) return neg('EINVAL');
      arm(ctx, 0n);
      return 0n;
    case OP.set_periodic_timer: {
      if (vcpu !== ctx.vcpuId) return neg('EINVAL');
      const period = new GuestStruct(ctx, arg, PERIODIC_TIMER).getBig('period_ns');
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
      // Runstate areas, send_nmi and the physical-area variants are not offered.
      return neg('ENOSYS');
  }
}

export function registerVcpuOp(table: HypercallTable): void {
  table.register(HC.vcpu_op, 'vcpu_op', vcpuOp);
}
