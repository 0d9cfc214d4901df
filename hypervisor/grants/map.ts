// map.ts: GNTTABOP_map_grant_ref and unmap_grant_ref for HVM/PVH callers — another domain's
// granted page appears at a guest-physical address of the caller, as one KVM memory slot.
//
//   map:   flags → granter exists → maptrack handle → [granter held alive]
//            pin entry (CAS on flags+domid) → slot at host_addr in the caller → handle Mapped
//   unmap: handle → host_addr matches → slot deleted → handle freed → unpin (if granter lives)
//
// The slot is created, and the handle recorded, while the granter is held alive (acquire), so a
// granter's teardown — which waits for holders, then scans every maptrack — always finds and
// removes every slot that points into its memory before that memory is unmapped.
import { GNTMAP, GNTST } from '../../abi/grant-table.ts';
import { PAGE_SIZE } from '../memory/regions.ts';
import type { GrantCaller } from './caller.ts';
import { MAPTRACK_SIZE, Mt, type MaptrackEntry } from '../state/grant-state.ts';
import { pinEntry, unpinEntry, type Pinned } from './entries.ts';
import { addForeignSlot, removeForeignSlot } from './foreign-slots.ts';

const M = GNTMAP.values;
const ST = GNTST.values;

export interface MapRequest {
  readonly hostAddr: bigint;
  readonly flags: number;
  readonly ref: number;
  readonly dom: number;
}

export interface MapResult {
  readonly status: number;
  readonly handle: number;
}

export function mapGrantRef(dom: GrantCaller, req: MapRequest): MapResult {
  const fail = (status: number): MapResult => ({ status, handle: 0 });
  if ((req.flags & (M.device_map | M.host_map)) === 0) return fail(ST.bad_gntref);
  // An HVM caller has no device mappings or PV page-table tricks.
  if ((req.flags & (M.device_map | M.application_map | M.contains_pte)) !== 0) return fail(ST.general_error);
  const self = dom.domid;
  // Looked up by number: DOMID_SELF names no domain here (Xen: rcu_lock_domain_by_id).
  if (req.dom !== self && !dom.domains.with(req.dom, false, () => true)) return fail(ST.bad_domain);
  const mt = dom.shared.grants;
  mt.lockMaptrack();
  const handle = mt.reserveHandle();
  mt.unlockMaptrack();
  if (handle < 0) return fail(ST.no_device_space);
  const readonly = (req.flags & M.readonly) !== 0;
  const status = dom.domains.with(req.dom, ST.bad_domain, (h) => {
    const gs = h.shared.grants;
    gs.lock();
    let pinned: Pinned;
    try {
      pinned = pinEntry(h, req.ref, self, readonly, true);
    } finally {
      gs.unlock();
    }
    if (pinned.status !== ST.okay) return pinned.status;
    // Xen's HVM host mapping takes exactly host_map (+ readonly) and the page number of host_addr.
    const gpa = Number(req.hostAddr >> 12n) * PAGE_SIZE;
    const slot = (req.flags & ~M.readonly) !== M.host_map ? null
      : addForeignSlot(dom.mem.regions, dom.domains.self().vm, gpa, h.shared.memBase + BigInt(pinned.frame * PAGE_SIZE), readonly);
    if (slot === null) {
      gs.lock();
      try {
        unpinEntry(h, req.ref, readonly);
      } finally {
        gs.unlock();
      }
      return ST.general_error;
    }
    mt.lockMaptrack();
    mt.setMapped(handle, { granter: req.dom, ref: req.ref, slot, gpa, readonly });
    mt.unlockMaptrack();
    return ST.okay;
  });
  if (status !== ST.okay) {
    mt.lockMaptrack();
    mt.freeHandle(handle);
    mt.unlockMaptrack();
    return fail(status);
  }
  return { status, handle };
}

export interface UnmapRequest {
  readonly hostAddr: bigint;
  readonly devBusAddr: bigint;
  readonly handle: number;
}

/**
 * Unmap by handle. pvkvm hands out no bus addresses (dev_bus_addr 0), so a non-zero one never
 * matches (general_error). host_addr 0 unmaps nothing and keeps the handle, as in Xen; any other
 * host_addr must name the mapping's page. A handle whose granter died (its page already gone)
 * unmaps cleanly.
 */
export function unmapGrantRef(dom: GrantCaller, req: UnmapRequest): number {
  if (req.handle >= MAPTRACK_SIZE) return ST.bad_handle;
  const mt = dom.shared.grants;
  const regions = dom.mem.regions;
  mt.lockMaptrack();
  let e: MaptrackEntry;
  try {
    e = mt.entry(req.handle);
    if (e.state === Mt.Free || e.state === Mt.Reserved) return ST.bad_handle;
    if (e.state === Mt.Orphaned) {
      regions.remove(e.gpa, e.slot);
      mt.freeHandle(req.handle);
      return ST.okay;
    }
    if (req.devBusAddr !== 0n) return ST.general_error;
    if (req.hostAddr === 0n) return ST.okay;
    if (req.hostAddr >> 12n !== BigInt(e.gpa / PAGE_SIZE)) return ST.general_error;
    // Under the maptrack lock, so the granter's teardown never deletes this slot a second time.
    removeForeignSlot(regions, dom.domains.self().vm, e.gpa, e.slot);
    mt.freeHandle(req.handle);
  } finally {
    mt.unlockMaptrack();
  }
  const { granter, ref, readonly } = e;
  dom.domains.with(granter, undefined, (h) => {
    h.shared.grants.lock();
    try {
      unpinEntry(h, ref, readonly);
    } finally {
      h.shared.grants.unlock();
    }
  });
  return ST.okay;
}
