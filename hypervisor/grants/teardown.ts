// teardown.ts: releasing every grant mapping that involves a dying domain (main thread, after
// DomainShared.retire() and before its memory is unmapped) — Xen's gnttab_release_mappings, plus
// revoking other domains' mappings of the dying domain's pages.
import type { HypervisorShared } from '../state/global-state.ts';
import { Domains } from '../state/domain-handle.ts';
import { MAPTRACK_SIZE, Mt } from '../state/grant-state.ts';
import { unpinEntry } from './entries.ts';
import { deleteKvmSlot } from './foreign-slots.ts';

/**
 * 1. Mappings the dying domain holds: their pins in the (live) granters are dropped, so the
 *    granters see GTF_reading/GTF_writing clear and can end access. Its own KVM slots go with
 *    its VM.
 * 2. Mappings other domains hold of its pages: their KVM slots are deleted now, because the
 *    memory behind them is about to be unmapped; the handles become orphans, which the holders'
 *    unmap then frees. (Xen keeps such pages alive until unmapped; pvkvm cannot, since the memory
 *    belongs to the dying domain's memfd mapping. The holder then reads all-ones there.)
 */
export function releaseGrants(hv: HypervisorShared, domid: number): void {
  const slot = hv.slot(domid);
  if (slot < 0) return;
  // No domain is "self" on the main thread: every peer is held alive while it is touched.
  const domains = new Domains(hv, -1, new Uint8Array(0));
  const mt = hv.domain(slot).grants;
  mt.lockMaptrack();
  try {
    for (let handle = 0; handle < MAPTRACK_SIZE; handle++) {
      const e = mt.entry(handle);
      if (e.state === Mt.Free) continue;
      if (e.state === Mt.Mapped && e.granter !== domid) {
        domains.with(e.granter, undefined, (h) => {
          h.shared.grants.lock();
          try {
            unpinEntry(h, e.ref, e.readonly);
          } finally {
            h.shared.grants.unlock();
          }
        });
      }
      mt.freeHandle(handle);
    }
  } finally {
    mt.unlockMaptrack();
  }
  for (const other of hv.liveSlots()) {
    if (other === slot) continue;
    domains.with(hv.domain(other).domid, undefined, (h) => {
      const gs = h.shared.grants;
      if (gs.mappedCount === 0) return;
      gs.lockMaptrack();
      try {
        for (let handle = 0; handle < MAPTRACK_SIZE; handle++) {
          const e = gs.entry(handle);
          if (e.state !== Mt.Mapped || e.granter !== domid) continue;
          deleteKvmSlot(h.vm, e.slot, e.gpa);
          gs.setOrphaned(handle);
        }
      } finally {
        gs.unlockMaptrack();
      }
    });
  }
}
