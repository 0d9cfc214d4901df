// dom0-maps.ts: grant maps by dom0 backends (batched over the privileged interface). dom0 holds
// the guest's memory file, so a "map" pins the grant entry exactly as GNTTABOP_map_grant_ref does
// (GTF_reading/GTF_writing, read-only honoured) and answers the frame's offset in that file; dom0
// then maps that page of the file itself, as vhost-user backends do.
import { GNTST } from '../../abi/grant-table.ts';
import { PAGE_SIZE } from '../memory/regions.ts';
import type { HypervisorShared } from '../state/global-state.ts';
import { Domains } from '../state/domain-handle.ts';
import { pinEntry, unpinEntry } from './entries.ts';
import type { GrantMapOpMsg, GrantMapResultMsg } from '../../abi/privileged.ts';

const ST = GNTST.values;
/** Concurrent dom0 mappings (blkback with persistent grants keeps a few thousand). */
export const DOM0_MAX_MAPS = 1 << 16;
/** Larger batches are refused whole: one request must not monopolise the main thread. */
export const DOM0_MAX_BATCH = 1024;

interface Dom0Map {
  readonly granter: number;
  readonly ref: number;
  readonly readonly: boolean;
  /** The granter died: its grant table is gone, nothing to unpin. */
  readonly orphaned?: boolean;
}

export class Dom0GrantMaps {
  private readonly maps = new Map<number, Dom0Map>();
  private nextHandle = 1;
  private readonly domains: Domains;

  constructor(hv: HypervisorShared) {
    this.domains = new Domains(hv, -1, new Uint8Array(0));
  }

  get count(): number {
    return this.maps.size;
  }

  private allocHandle(): number {
    for (let i = 0; i < DOM0_MAX_MAPS; i++) {
      const h = this.nextHandle;
      this.nextHandle = h >= DOM0_MAX_MAPS ? 1 : h + 1;
      if (!this.maps.has(h)) return h;
    }
    return -1;
  }

  map(ops: readonly GrantMapOpMsg[]): GrantMapResultMsg[] {
    return ops.map((op) => {
      const fail = (status: number): GrantMapResultMsg => ({ status, handle: 0, offset: 0 });
      if (!Number.isInteger(op.domid) || op.domid <= 0 || op.domid >= 0x7ff0) return fail(ST.bad_domain);
      if (this.maps.size >= DOM0_MAX_MAPS) return fail(ST.no_device_space);
      return this.domains.with(op.domid, fail(ST.bad_domain), (h) => {
        h.shared.grants.lock();
        let pinned;
        try {
          pinned = pinEntry(h, op.ref, 0, op.readonly, true);
        } finally {
          h.shared.grants.unlock();
        }
        if (pinned.status !== ST.okay) return fail(pinned.status);
        const handle = this.allocHandle();
        this.maps.set(handle, { granter: op.domid, ref: op.ref, readonly: op.readonly });
        return { status: ST.okay, handle, offset: pinned.frame * PAGE_SIZE };
      });
    });
  }

  /** Unmap by handle; a mapping whose granter died meanwhile unmaps cleanly. */
  unmap(handles: readonly number[]): number[] {
    return handles.map((handle) => {
      const m = this.maps.get(handle);
      if (m === undefined) return ST.bad_handle;
      this.maps.delete(handle);
      if (m.orphaned === true) return ST.okay;
      this.domains.with(m.granter, undefined, (h) => {
        h.shared.grants.lock();
        try {
          unpinEntry(h, m.ref, m.readonly);
        } finally {
          h.shared.grants.unlock();
        }
      });
      return ST.okay;
    });
  }

  /** dom0 went away: drop every pin it held, so guests can end access. */
  releaseAll(): number {
    const n = this.maps.size;
    this.unmap([...this.maps.keys()]);
    return n;
  }

  /**
   * A granter is dying: its grant table goes with it. dom0 keeps the pages it mapped (its own
   * mapping of the memory file holds them) until it unmaps; the handles then unmap cleanly.
   */
  forgetGranter(domid: number): void {
    for (const [handle, m] of this.maps) if (m.granter === domid) this.maps.set(handle, { ...m, orphaned: true });
  }
}
