// grants.ts: grant maps from inside the net worker — one synchronous round trip to dom0's main
// thread per batch (it owns the privileged socket), for whichever domain a vif belongs to.
import type { MessagePort } from 'node:worker_threads';
import { grantCall } from '../../backend-sdk/worker/grants.ts';
import type { GrantOp, GrantResult } from '../messages.ts';

export class NetGrants {
  constructor(private readonly port: MessagePort, private readonly ctl: Int32Array) {}

  /**
   * Map a batch of one domain's grants; results in input order (status 0 = mapped). A ref asked
   * for twice in the batch (several slots in one granted page) is mapped once and shares the handle.
   */
  map(domid: number, ops: readonly GrantOp[]): readonly GrantResult[] {
    if (ops.length === 0) return [];
    const unique = new Map<string, number>();
    const asks: GrantOp[] = [];
    const at = ops.map((op) => {
      const k = `${op.ref}:${op.readonly ? 'r' : 'w'}`;
      let i = unique.get(k);
      if (i === undefined) {
        i = asks.push(op) - 1;
        unique.set(k, i);
      }
      return i;
    });
    const a = grantCall(this.port, this.ctl, { t: 'map', domid, ops: asks });
    if (a.t !== 'mapped' || a.results.length !== asks.length) throw new Error('grant map: bad reply');
    return at.map((i) => a.results[i]!);
  }

  /** Unmap (each handle once), and wait: the guest may end access once it sees our response. */
  unmap(handles: readonly number[]): void {
    const unique = [...new Set(handles)];
    if (unique.length > 0) grantCall(this.port, this.ctl, { t: 'unmap', handles: unique });
  }
}
