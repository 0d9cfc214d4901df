// transactions.ts: a transaction is a copy-on-write overlay over the store. Like xenstored, it
// copies each node in on first access (later reads see that copy, not newer outside changes) and
// commit fails (EAGAIN) if any node it touched has changed in the store meanwhile.
import type { NodeData, NodeView, Store, XsNode } from './store.ts';
import type { Change } from './tree-ops.ts';

export class Transaction implements NodeView {
  /** Path → node as this transaction sees it; null = deleted inside the transaction. */
  private readonly overlay = new Map<string, XsNode | null>();
  /** Path → the store's node at first access (undefined = it did not exist). */
  private readonly seen = new Map<string, XsNode | undefined>();
  private readonly ownedDelta = new Map<number, number>();
  /** Watch events held back until commit (Xen fires nothing for an aborted transaction). */
  readonly changes: Change[] = [];

  constructor(private readonly base: Store, readonly id: number) {}

  get(path: string): XsNode | undefined {
    const mine = this.overlay.get(path);
    if (mine !== undefined) return mine ?? undefined;
    if (this.seen.has(path)) return this.seen.get(path);
    const node = this.base.get(path);
    this.seen.set(path, node);
    return node;
  }

  set(path: string, data: NodeData): void {
    const old = this.get(path);
    if (old) this.count(old.perms[0]!.id, -1);
    this.overlay.set(path, { ...data, gen: this.base.nextGen() });
    this.count(data.perms[0]!.id, +1);
  }

  delete(path: string): void {
    const old = this.get(path);
    if (!old) return;
    this.count(old.perms[0]!.id, -1);
    this.overlay.set(path, null);
  }

  owned(domid: number): number {
    return this.base.owned(domid) + (this.ownedDelta.get(domid) ?? 0);
  }

  /** Apply to the store if nothing this transaction touched has changed; false = conflict. */
  commit(): boolean {
    for (const [path, node] of this.seen) {
      if (this.base.get(path) !== node) return false; // nodes are immutable: identity = unchanged
    }
    for (const [path, node] of this.overlay) {
      if (node) this.base.install(path, { ...node, gen: this.base.nextGen() });
      else this.base.delete(path);
    }
    return true;
  }

  private count(domid: number, delta: number): void {
    this.ownedDelta.set(domid, (this.ownedDelta.get(domid) ?? 0) + delta);
  }
}
