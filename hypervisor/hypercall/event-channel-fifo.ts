// event-channel-fifo.ts: event_channel_op's FIFO commands — init_control, expand_array and
// set_priority — with Xen's checks and error codes (common/event_fifo.c, event_channel.c).
import { EVTCHN_FIFO, EVTCHNSTAT, EvtchnExpandArray, EvtchnFifoControlBlock, EvtchnInitControl, EvtchnSetPriority } from '../../abi/event-channel.ts';
import { neg } from '../../abi/errno.ts';
import { GuestStruct } from './guest-struct.ts';
import type { HypercallContext } from './context.ts';
import { portLimit } from '../events/raise.ts';
import { addEventArrayPage, initControlBlock } from '../events/fifo-setup.ts';

const F = EVTCHN_FIFO.values;
const PAGE = 4096;
/** Guest frame numbers this high are beyond any guest-physical address (as add_to_physmap). */
const GFN_LIMIT = 1n << 40n;

/**
 * Memfd offset of guest frame `gfn` when it is a whole page of the guest's own RAM, else -1: a
 * special page, a foreign (grant) mapping or a hole is not ours to use (Xen: -EINVAL).
 */
function ramPage(ctx: HypercallContext, gfn: bigint): number {
  if (gfn >= GFN_LIMIT) return -1;
  const gpa = Number(gfn) * PAGE;
  if (!ctx.dom.mem.isRam(gpa, PAGE)) return -1;
  return ctx.dom.mem.offsetOf(gpa, PAGE);
}

/** EVTCHNOP_init_control: a control block for one vCPU; the first one switches the domain to FIFO. */
export function initControl(ctx: HypercallContext, arg: bigint): bigint {
  const a = new GuestStruct(ctx, arg, EvtchnInitControl);
  const vcpu = a.get('vcpu');
  const offset = a.get('offset');
  if (vcpu >= ctx.dom.nrVcpus) return neg('ENOENT');
  // Within one page, and 8-byte aligned.
  if (offset > PAGE - EvtchnFifoControlBlock.size) return neg('EINVAL');
  if ((offset & 7) !== 0) return neg('EINVAL');
  const page = ramPage(ctx, a.getBig('control_gfn'));
  const rc = initControlBlock(ctx.dom.domains.self(), vcpu, page < 0 ? -1 : page + offset);
  if (rc < 0) return BigInt(rc);
  a.set('link_bits', F.LINK_BITS);
  a.writeBack();
  return 0n;
}

/** EVTCHNOP_expand_array: one more page of event words (1024 ports). */
export function expandArray(ctx: HypercallContext, arg: bigint): bigint {
  const a = new GuestStruct(ctx, arg, EvtchnExpandArray);
  return BigInt(addEventArrayPage(ctx.dom.domains.self(), ramPage(ctx, a.getBig('array_gfn'))));
}

/**
 * EVTCHNOP_set_priority: for future events of a bound port (one already queued stays where it is).
 * A bad port is -EINVAL, a 2-level domain -ENOSYS, a free or reserved port -EACCES, a priority past
 * the lowest -EINVAL — in that order, as Xen checks them.
 */
export function setPriority(ctx: HypercallContext, arg: bigint): bigint {
  const a = new GuestStruct(ctx, arg, EvtchnSetPriority);
  const port = a.get('port');
  const priority = a.get('priority');
  const self = ctx.dom.domains.self();
  if (port >= portLimit(self)) return neg('EINVAL');
  if (!self.shared.fifo.active) return neg('ENOSYS');
  if (self.ports.state(port) === EVTCHNSTAT.values.closed) return neg('EACCES');
  if (priority > F.PRIORITY_MIN) return neg('EINVAL');
  self.ports.setPriority(port, priority);
  return 0n;
}
