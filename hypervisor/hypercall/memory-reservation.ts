// memory-reservation.ts: XENMEM_increase_reservation, decrease_reservation and populate_physmap —
// ballooning, with Xen's semantics for a translated (HVM/PVH) domU.
//
// Each op walks the caller's extent list (guest frame numbers, xen_pfn_t: 4 bytes for 32-bit
// callers) from the start extent the command's high bits carry, and returns how many extents it
// completed: a bad frame or an unreadable list entry ends the walk there, as in Xen. Long lists
// are done in runs, with a hypercall continuation between them (reservationOp).
// - decrease_reservation: every frame of the extent must be populated RAM; its memory goes back
//   to the host (the guest memory file gets a hole) and the guest can no longer reach it: KVM's
//   mapping of it is PROT_NONE, so a guest access ends the domain with a report naming the frame
//   (docs/xen-abi.md §6.4), within a bound past which the frame reads as zero.
// - populate_physmap: every frame of the extent must be a RAM frame; a released frame is taken back
//   zeroed, within maximum_reservation; a populated one is replaced by a zeroed page.
// - increase_reservation: Xen gives a translated guest pages without a guest frame (no frame
//   numbers are written back); here they only count toward the reservation.
import { XENMEM, MEMOP, XenMemoryReservation, XenMemoryReservation32 } from '../../abi/memory.ts';
import { neg } from '../../abi/errno.ts';
import { selfDomid, type HypercallContext } from './context.ts';
import { GuestStruct, byMode, scalarArray } from './guest-struct.ts';
import { GuestFault } from '../memory/guest-access.ts';
import { preemptCheck } from './preempt.ts';

const M = XENMEM.values;
const RESERVATION = byMode(XenMemoryReservation, XenMemoryReservation32);
/** Largest extent a domU may ask for: 2 MiB (Xen's default domU_max_order). */
export const DOMU_MAX_ORDER = 9;

/** Guest frame number `i` of the extent list, or null when the list cannot be read there. */
function extentGfn(ctx: HypercallContext, list: bigint, i: number): bigint | null {
  const width = ctx.mode === 64 ? 8 : 4;
  try {
    return new GuestStruct(ctx, list + BigInt(i * width), scalarArray(width === 8 ? 'u64' : 'u32', 1)).getBig('e');
  } catch (err) {
    if (err instanceof GuestFault) return null;
    throw err;
  }
}

/** Release or populate frames [gfn, gfn + n); false at the first frame that may not be. */
function releaseExtent(ctx: HypercallContext, gfn: number, n: number): boolean {
  const b = ctx.dom.balloon;
  for (let p = gfn; p < gfn + n; p++) if (b.isReleased(p)) return false;
  if (!ctx.dom.discardFrames(gfn, n)) return false;
  for (let p = gfn; p < gfn + n; p++) b.release(p);
  // As in Xen, where the p2m entry goes: the guest can no longer reach the frame (within the
  // bound of protected-runs.ts; past it the frame reads as zero).
  b.unmapped.release(gfn, gfn + n, (f, e, on) => ctx.dom.setFrameAccess(f, e, on));
  return true;
}

function populateExtent(ctx: HypercallContext, gfn: number, n: number): boolean {
  const b = ctx.dom.balloon;
  let released = 0;
  for (let p = gfn; p < gfn + n; p++) if (b.isReleased(p)) released++;
  if (b.currentPages() + released > ctx.dom.maxPages) return false;
  // A frame written after it was released got memory again: zero every frame we hand out.
  if (!ctx.dom.discardFrames(gfn, n)) return false;
  if (!b.unmapped.populate(gfn, gfn + n, (f, e, on) => ctx.dom.setFrameAccess(f, e, on))) return false;
  for (let p = gfn; p < gfn + n; p++) b.repopulate(p);
  return true;
}

/** Extents one run of a reservation op does at most before it yields to the guest (a continuation). */
export const PREEMPT_EXTENTS = 1024;
/** Largest list whose progress still fits above the command in 32 bits (Xen's limit, both ABIs). */
const MAX_EXTENTS = 0xffffffff >>> MEMOP.values.EXTENT_SHIFT;

/**
 * Walk extents [startExtent, nr_extents). After every PREEMPT_EXTENTS, or sooner when the
 * toolstack wants the vCPU or an event can be delivered, the op yields as Xen's does: the
 * hypercall is set up to run again with the progress in the command's upper bits, so a huge
 * list never holds the vCPU thread (a pause or destroy waits for no more than one chunk). The
 * count returned at the end is the whole list's.
 */
export function reservationOp(ctx: HypercallContext, cmd: number, startExtent: number, arg: bigint): bigint {
  const r = new GuestStruct(ctx, arg, RESERVATION);
  const bad = selfDomid(ctx, r.get('domid'));
  if (bad !== null) return bad;
  const order = r.get('extent_order');
  if (order > DOMU_MAX_ORDER) return neg('EPERM');
  const nr = r.getBig('nr_extents');
  // Xen: a list whose progress could not be encoded in a continuation does nothing.
  if (nr > BigInt(MAX_EXTENTS)) return BigInt(startExtent);
  const list = r.getBig('extent_start');
  const pages = 1 << order;
  const ramPages = ctx.dom.balloon.ramPages;
  let canContinue = ctx.createContinuation !== undefined;
  let done = startExtent;
  for (; BigInt(done) < nr; done++) {
    // As Xen, never before the first extent of a run: every run makes progress.
    if (done !== startExtent && (done - startExtent >= PREEMPT_EXTENTS || preemptCheck(ctx))) {
      if (canContinue) {
        canContinue = ctx.createContinuation!([BigInt(cmd) | (BigInt(done) << BigInt(MEMOP.values.EXTENT_SHIFT)), arg]);
        if (canContinue) return BigInt(done);
      }
      // Not re-issuable (inside a multicall): stop only for the toolstack, which ends or holds the vCPU.
      if (ctx.stopRequested()) break;
    }
    if (cmd === M.increase_reservation) {
      if (!ctx.dom.balloon.takeFloating(pages, ctx.dom.maxPages)) break;
      continue;
    }
    const gfn = extentGfn(ctx, list, done);
    // The whole extent must be RAM and aligned to its order, as Xen's p2m requires.
    if (gfn === null || gfn % BigInt(pages) !== 0n || gfn + BigInt(pages) > BigInt(ramPages)) break;
    const ok = cmd === M.decrease_reservation ? releaseExtent(ctx, Number(gfn), pages) : populateExtent(ctx, Number(gfn), pages);
    if (!ok) break;
  }
  return BigInt(done);
}

/** The extent a continued reservation op starts from (Xen encodes it above the command). */
export function startExtentOf(rawCmd: bigint): number {
  return Number((rawCmd >> BigInt(MEMOP.values.EXTENT_SHIFT)) & 0xffffffffn);
}
