// sched-op.ts: hypercall 29, sched_op — yield, block, shutdown (+code), remote shutdown, watchdog.
import { HC } from '../../abi/hypercalls.ts';
import { SCHEDOP, SchedPoll, SchedPoll32, SchedRemoteShutdown, SchedShutdown, SchedWatchdog, SchedWatchdog32 } from '../../abi/sched.ts';
import { isPending, portLimit } from '../events/raise.ts';
import { neg } from '../../abi/errno.ts';
import { NR_WATCHDOGS, VCPU_FLAG } from '../state/shared-state.ts';
import type { HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';
import { GuestStruct, byMode, scalarArray } from './guest-struct.ts';
import { eventsNeedDelivery } from './preempt.ts';

const S = SCHEDOP.values;

/** SCHEDOP_block: sleep until an event arrives for this vCPU or the toolstack needs it. */
function block(ctx: HypercallContext): bigint {
  const sh = ctx.dom.shared;
  const seq = sh.wakeSeq(ctx.vcpuId);
  if (eventsNeedDelivery(ctx)) return 0n;
  // VCPUOP_down from another vCPU bumps the wake sequence too (setVcpuFlags), so it ends the wait.
  while (sh.wakeSeq(ctx.vcpuId) === seq && !ctx.stopRequested()) sh.waitWake(ctx.vcpuId, seq, 50);
  return 0n;
}

/** Downed by another vCPU (VCPUOP_down): leave the wait so the vCPU thread stops it. */
function isDown(ctx: HypercallContext): boolean {
  return (ctx.dom.shared.vcpuFlags(ctx.vcpuId) & VCPU_FLAG.UP) === 0;
}

const MAX_POLL_PORTS = 128;
/** sched_poll holds a handle: 4 bytes for 32-bit callers, which also moves the timeout. */
const POLL = byMode(SchedPoll, SchedPoll32);
/** One layout in both ABIs, each checked against Xen's (abi/sched.ts). */
const WATCHDOG = byMode(SchedWatchdog, SchedWatchdog32);

/**
 * SCHEDOP_poll: sleep until one of the listed ports is pending (masked or not) or the absolute
 * system-time timeout passes (0 = none). Either way the call returns 0.
 */
function poll(ctx: HypercallContext, arg: bigint): bigint {
  const op = new GuestStruct(ctx, arg, POLL);
  const nr = op.get('nr_ports');
  const timeout = op.getBig('timeout');
  if (nr > MAX_POLL_PORTS) return neg('EINVAL');
  // evtchn_port_t is a u32 in both modes.
  const list = new GuestStruct(ctx, op.getBig('ports'), scalarArray('u32', nr));
  const self = ctx.dom.domains.self();
  const ports: number[] = [];
  for (let i = 0; i < nr; i++) {
    const p = list.get('e', i);
    if (p >= portLimit(self)) return neg('EINVAL');
    ports.push(p);
  }
  const sh = ctx.dom.shared;
  for (;;) {
    const seq = sh.wakeSeq(ctx.vcpuId);
    if (ports.some((p) => isPending(self, p)) || eventsNeedDelivery(ctx) || ctx.stopRequested() || isDown(ctx)) return 0n;
    const now = ctx.dom.now();
    if (timeout !== 0n && now >= timeout) return 0n;
    const waitMs = timeout === 0n ? 50 : Math.min(50, Math.max(0.1, Number(timeout - now) / 1e6));
    sh.waitWake(ctx.vcpuId, seq, waitMs);
  }
}

/** The sched_shutdown argument of SCHEDOP_shutdown and SCHEDOP_shutdown_code. */
function readReason(ctx: HypercallContext, arg: bigint): number {
  return new GuestStruct(ctx, arg, SchedShutdown).get('reason');
}

function watchdog(ctx: HypercallContext, arg: bigint): bigint {
  const op = new GuestStruct(ctx, arg, WATCHDOG);
  const id = op.get('id');
  const timeout = op.get('timeout');
  const sh = ctx.dom.shared;
  if (id > NR_WATCHDOGS) return neg('EINVAL');
  if (id === 0) {
    const slot = sh.claimWatchdog();
    if (slot < 0) return neg('ENOSPC');
    sh.armWatchdog(slot, timeout);
    return BigInt(slot + 1);
  }
  if (!sh.watchdogActive(id - 1)) return neg('EINVAL');
  if (timeout === 0) sh.releaseWatchdog(id - 1);
  else sh.armWatchdog(id - 1, timeout);
  return 0n;
}

export function schedOp(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = Number(args[0]! & 0xffffffffn);
  const arg = args[1]!;
  switch (cmd) {
    case S.yield:
      return 0n;
    case S.block:
      return block(ctx);
    case S.shutdown: {
      const reason = readReason(ctx, arg);
      const effective = ctx.dom.shared.beginShutdown(reason);
      if (effective !== null) ctx.dom.shutdown(effective);
      return 0n;
    }
    case S.shutdown_code:
      ctx.dom.shared.latchShutdownCode(readReason(ctx, arg));
      return 0n;
    case S.remote_shutdown: {
      if (!ctx.dom.privileged) return neg('EPERM');
      const op = new GuestStruct(ctx, arg, SchedRemoteShutdown);
      ctx.dom.remoteShutdown(op.get('domain_id'), op.get('reason'));
      return 0n;
    }
    case S.poll:
      return poll(ctx, arg);
    case S.watchdog:
      return watchdog(ctx, arg);
    case S.pin_override:
      return neg('EPERM');
    default:
      return neg('ENOSYS');
  }
}

export function registerSchedOp(table: HypercallTable): void {
  table.register(HC.sched_op, 'sched_op', schedOp);
}
