// persist.ts: the store's contents on disk, so a restarted dom0 finds the tree its guests and
// backends left (Xen's xenstored keeps its database across a live update for the same reason).
// Guests' watches are kept too (by domid), as Xen's live update keeps them: a frontend that
// watches its backend's state sees the new backend's InitWait. Written atomically (temp file +
// rename), at most every SAVE_DELAY_MS while changes happen.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { NodeData, Store } from './store.ts';
import type { XsPerm } from './permissions.ts';
import type { SavedWatch } from './watches.ts';

const SAVE_DELAY_MS = 50;
const FORMAT = 1;

interface SavedNode { v: string; p: [number, string][]; c: string[] }
/** A guest's watches: [absolute path, relative, token, depth or null]. */
type SavedWatchRow = [string, boolean, string, number | null];

/** Guests' watches by domid. */
export type SavedWatches = Map<number, SavedWatch[]>;

export function saveStore(store: Store, path: string, watches: SavedWatches = new Map()): void {
  const nodes: Record<string, SavedNode> = {};
  for (const [p, n] of store.entries()) {
    nodes[p] = { v: n.value.toString('base64'), p: n.perms.map((x) => [x.id, x.perm]), c: [...n.children] };
  }
  const w: Record<string, SavedWatchRow[]> = {};
  for (const [domid, list] of watches) w[domid] = list.map((x) => [x.abs, x.relative, x.token, x.depth ?? null]);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify({ format: FORMAT, nodes, watches: w }), { mode: 0o600 });
  renameSync(tmp, path);
}

/** The watches of a snapshot, skipping malformed rows (the file is ours, but may be truncated by hand). */
function loadWatches(raw: unknown): SavedWatches {
  const out: SavedWatches = new Map();
  if (typeof raw !== 'object' || raw === null) return out;
  for (const [domid, rows] of Object.entries(raw as Record<string, unknown>)) {
    if (!/^[1-9]\d{0,4}$/.test(domid) || !Array.isArray(rows)) continue;
    const list: SavedWatch[] = [];
    for (const r of rows as unknown[]) {
      if (!Array.isArray(r) || typeof r[0] !== 'string' || typeof r[1] !== 'boolean' || typeof r[2] !== 'string') continue;
      const depth = typeof r[3] === 'number' && Number.isInteger(r[3]) && r[3] >= 0 ? r[3] : undefined;
      list.push({ abs: r[0], relative: r[1], token: r[2], depth });
    }
    out.set(Number(domid), list);
  }
  return out;
}

/**
 * Load a snapshot into `store`; its guests' watches, or null when there is none (or it is
 * unreadable: start empty).
 */
export function loadStore(store: Store, path: string, log: (line: string) => void): SavedWatches | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const saved = JSON.parse(text) as { format: number; nodes: Record<string, SavedNode>; watches?: unknown };
    if (saved.format !== FORMAT || typeof saved.nodes !== 'object' || saved.nodes['/'] === undefined) throw new Error('unknown format');
    const nodes: [string, NodeData][] = Object.entries(saved.nodes).map(([p, n]) => [p, {
      value: Buffer.from(n.v, 'base64'),
      perms: n.p.map(([id, perm]) => ({ id, perm }) as XsPerm),
      children: n.c,
    }]);
    store.replaceAll(nodes);
    return loadWatches(saved.watches);
  } catch (err) {
    log(`ignoring the saved store ${path}: ${(err as Error).message}`);
    return null;
  }
}

/** Debounced saver: call `changed()` after each change, `flush()` before exit. */
export class StoreSaver {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly store: Store, private readonly path: string, private readonly log: (line: string) => void,
    private readonly watches: () => SavedWatches = () => new Map()) {}

  changed(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => this.flush(), SAVE_DELAY_MS);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    try {
      saveStore(this.store, this.path, this.watches());
    } catch (err) {
      this.log(`cannot save the store to ${this.path}: ${(err as Error).message}`);
    }
  }
}
