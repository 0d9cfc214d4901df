// grant-cache.ts: one vif's grant maps — per batch (map, copy, unmap) for frontends that revoke
// their grants, or kept for the life of the connection when the frontend promised to reuse them
// (`feature-persistent` = 1, as blkif's persistent grants), which turns two round trips to dom0's
// main thread per batch into none once the frontend's buffer pool has been seen.
import type { GrantOp, GrantResult } from '../messages.ts';
import type { NetGrants } from './grants.ts';

/** Linux blkback's bound for persistent grants per ring; our netfront uses 512 (256 TX + 256 RX). */
export const MAX_PERSISTENT = 1056;

export class VifGrants {
  /** `ref * 2 + (readonly ? 1 : 0)` → mapping kept until the vif is detached. */
  private readonly kept = new Map<number, GrantResult>();

  constructor(private readonly grants: NetGrants, private readonly domid: number, readonly persistent: boolean) {}

  get keptCount(): number {
    return this.kept.size;
  }

  /**
   * Map a batch; results in input order. Returns the handles to give back once the batch is done
   * (the transient ones), so the caller releases exactly what it does not keep. In persistent
   * mode, when the batch has to ask anyway, `ahead()` (refs the frontend has posted but we have not
   * reached) ride along in the same round trip and are kept: a frontend's buffer pool is then
   * mapped in a few round trips instead of one per batch during its first lap.
   */
  acquire(ops: readonly GrantOp[], ahead: () => readonly GrantOp[] = () => []): { maps: GrantResult[]; transient: number[] } {
    const maps = new Array<GrantResult>(ops.length);
    const ask: GrantOp[] = [];
    const at: number[] = [];
    ops.forEach((op, i) => {
      const hit = this.persistent ? this.kept.get(key(op)) : undefined;
      if (hit !== undefined) maps[i] = hit;
      else {
        ask.push(op);
        at.push(i);
      }
    });
    const transient: number[] = [];
    if (ask.length > 0) {
      const wanted = ask.length;
      if (this.persistent) {
        const seen = new Set(ask.map(key));
        for (const op of ahead()) {
          if (this.kept.size + ask.length >= MAX_PERSISTENT) break;
          if (!this.kept.has(key(op)) && !seen.has(key(op))) {
            seen.add(key(op));
            ask.push(op);
          }
        }
      }
      const got = this.grants.map(this.domid, ask);
      got.forEach((r, k) => {
        if (k >= wanted) {
          // Looked ahead: kept if it mapped, otherwise forgotten (checked again when used).
          if (r.status === 0) {
            if (this.kept.size < MAX_PERSISTENT) this.kept.set(key(ask[k]!), r);
            else transient.push(r.handle);
          }
          return;
        }
        maps[at[k]!] = r;
        if (r.status !== 0) return;
        const op = ask[k]!;
        // The same ref twice in one batch: the first mapping is kept, the second given back.
        if (this.persistent && this.kept.size < MAX_PERSISTENT && !this.kept.has(key(op))) this.kept.set(key(op), r);
        else transient.push(r.handle);
      });
    }
    return { maps, transient };
  }

  release(transient: readonly number[]): void {
    this.grants.unmap(transient);
  }

  /** The vif goes away: give back everything kept (the frontend may then end access). */
  releaseAll(): void {
    const handles = [...this.kept.values()].map((m) => m.handle);
    this.kept.clear();
    this.grants.unmap(handles);
  }
}

function key(op: GrantOp): number {
  return op.ref * 2 + (op.readonly ? 1 : 0);
}
