// persist.ts: the store's contents on disk, so a restarted dom0 finds the tree its guests and
// backends left (Xen's xenstored keeps its database across a live update for the same reason).
// Written atomically (temp file + rename), at most every SAVE_DELAY_MS while changes happen.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { NodeData, Store } from './store.ts';
import type { XsPerm } from './permissions.ts';

const SAVE_DELAY_MS = 50;
const FORMAT = 1;

interface SavedNode { v: string; p: [number, string][]; c: string[] }

export function saveStore(store: Store, path: string): void {
  const nodes: Record<string, SavedNode> = {};
  for (const [p, n] of store.entries()) {
    nodes[p] = { v: n.value.toString('base64'), p: n.perms.map((x) => [x.id, x.perm]), c: [...n.children] };
  }
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify({ format: FORMAT, nodes }), { mode: 0o600 });
  renameSync(tmp, path);
}

/** Load a snapshot into `store`; false when there is none (or it is unreadable: start empty). */
export function loadStore(store: Store, path: string, log: (line: string) => void): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  try {
    const saved = JSON.parse(text) as { format: number; nodes: Record<string, SavedNode> };
    if (saved.format !== FORMAT || typeof saved.nodes !== 'object' || saved.nodes['/'] === undefined) throw new Error('unknown format');
    const nodes: [string, NodeData][] = Object.entries(saved.nodes).map(([p, n]) => [p, {
      value: Buffer.from(n.v, 'base64'),
      perms: n.p.map(([id, perm]) => ({ id, perm }) as XsPerm),
      children: n.c,
    }]);
    store.replaceAll(nodes);
    return true;
  } catch (err) {
    log(`ignoring the saved store ${path}: ${(err as Error).message}`);
    return false;
  }
}

/** Debounced saver: call `changed()` after each change, `flush()` before exit. */
export class StoreSaver {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly store: Store, private readonly path: string, private readonly log: (line: string) => void) {}

  changed(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => this.flush(), SAVE_DELAY_MS);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    try {
      saveStore(this.store, this.path);
    } catch (err) {
      this.log(`cannot save the store to ${this.path}: ${(err as Error).message}`);
    }
  }
}
