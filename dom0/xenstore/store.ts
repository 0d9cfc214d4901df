// store.ts: the xenstore tree — immutable nodes in a flat path map, generation counters and
// per-owner node counts (for quotas). Transactions overlay it through the same NodeView.
import type { XsPerm } from './permissions.ts';

/** A node. Nodes are never mutated: a change stores a new object with a new generation. */
export interface XsNode {
  readonly value: Buffer;
  readonly perms: readonly XsPerm[];
  /** Child names in creation order, as Xen lists them. */
  readonly children: readonly string[];
  /** Bumped on every change to this node, its perms or its child list (DIRECTORY_PART's gencnt). */
  readonly gen: number;
}

export type NodeData = Omit<XsNode, 'gen'>;

/** What tree operations work on: the live store, or a transaction's view of it. */
export interface NodeView {
  get(path: string): XsNode | undefined;
  set(path: string, node: NodeData): void;
  delete(path: string): void;
  /** Nodes owned (perms[0].id) by `domid` as this view sees them. */
  owned(domid: number): number;
}

export class Store implements NodeView {
  private readonly nodes = new Map<string, XsNode>();
  private readonly ownedBy = new Map<number, number>();
  private generation = 0;

  constructor() {
    this.set('/', { value: Buffer.alloc(0), perms: [{ id: 0, perm: 'n' }], children: [] });
  }

  nextGen(): number {
    return ++this.generation;
  }

  get(path: string): XsNode | undefined {
    return this.nodes.get(path);
  }

  set(path: string, node: NodeData): void {
    this.install(path, { ...node, gen: this.nextGen() });
  }

  /** Store a node keeping the generation it carries (transaction commit assigns its own). */
  install(path: string, node: XsNode): void {
    const old = this.nodes.get(path);
    if (old) this.count(old.perms[0]!.id, -1);
    this.nodes.set(path, node);
    this.count(node.perms[0]!.id, +1);
  }

  delete(path: string): void {
    const old = this.nodes.get(path);
    if (!old) return;
    this.count(old.perms[0]!.id, -1);
    this.nodes.delete(path);
  }

  owned(domid: number): number {
    return this.ownedBy.get(domid) ?? 0;
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Every node, for a snapshot (see persist.ts). */
  entries(): IterableIterator<[string, XsNode]> {
    return this.nodes.entries();
  }

  /** Replace the whole tree with `nodes` (restoring a snapshot). */
  replaceAll(nodes: Iterable<[string, NodeData]>): void {
    this.nodes.clear();
    this.ownedBy.clear();
    for (const [path, node] of nodes) this.set(path, node);
  }

  private count(domid: number, delta: number): void {
    const n = (this.ownedBy.get(domid) ?? 0) + delta;
    if (n === 0) this.ownedBy.delete(domid);
    else this.ownedBy.set(domid, n);
  }
}
