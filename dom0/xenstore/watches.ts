// watches.ts: the watch table — registration, quotas' counts, and firing events for tree changes
// and for the @introduceDomain/@releaseDomain pseudo paths.
import { XsError } from '../../abi/io/xs-error.ts';
import { depthBelow, viewPath } from './path.ts';
import { canRead, type Caller, type XsPerm } from './permissions.ts';
import type { Change } from './tree-ops.ts';

/** Whoever registered a watch: a guest ring, a socket client or the in-process dom0 API. */
export interface WatchOwner {
  readonly caller: Caller;
  /** Queue a WATCH_EVENT (path as the watcher sees it). Must not re-enter the store. */
  deliver(path: string, token: string): void;
}

interface Watch {
  owner: WatchOwner;
  /** Absolute path (or `@…`). */
  abs: string;
  /** Registered with a relative path: events are reported relative to the owner's home. */
  relative: boolean;
  token: string;
  /** Levels below `abs` that trigger; undefined = unlimited. */
  depth: number | undefined;
}

/** A watch as persist.ts keeps it across a dom0 restart (its owner is a guest, by domid). */
export interface SavedWatch {
  readonly abs: string;
  readonly relative: boolean;
  readonly token: string;
  readonly depth: number | undefined;
}

export class WatchTable {
  private readonly byOwner = new Map<WatchOwner, Watch[]>();

  /** `onChange`: a watch was added or removed (the persisted store then includes it). */
  constructor(private readonly onChange: () => void = () => {}) {}

  add(owner: WatchOwner, abs: string, relative: boolean, token: string, depth?: number): void {
    const list = this.byOwner.get(owner) ?? [];
    if (list.some((w) => w.abs === abs && w.token === token)) throw new XsError('EEXIST');
    list.push({ owner, abs, relative, token, depth });
    this.byOwner.set(owner, list);
    this.onChange();
  }

  /** The watches `owner` registered, in order. */
  saved(owner: WatchOwner): SavedWatch[] {
    return (this.byOwner.get(owner) ?? []).map(({ abs, relative, token, depth }) => ({ abs, relative, token, depth }));
  }

  remove(owner: WatchOwner, abs: string, token: string): void {
    const list = this.byOwner.get(owner);
    const i = list?.findIndex((w) => w.abs === abs && w.token === token) ?? -1;
    if (!list || i < 0) throw new XsError('ENOENT');
    list.splice(i, 1);
    if (list.length === 0) this.byOwner.delete(owner);
    this.onChange();
  }

  count(owner: WatchOwner): number {
    return this.byOwner.get(owner)?.length ?? 0;
  }

  clear(owner: WatchOwner): void {
    if (this.byOwner.delete(owner)) this.onChange();
  }

  /**
   * Fire for a tree change. A watch on P sees changes to P and anything below it (within its
   * depth), and, for a removal, the removal of any ancestor (reported as P itself). Watchers that
   * cannot read the changed node get nothing, so events do not leak hidden nodes.
   */
  fire(change: Change): void {
    for (const list of [...this.byOwner.values()]) {
      for (const w of list) {
        if (w.abs.startsWith('@')) continue;
        const d = depthBelow(change.path, w.abs);
        let hit: string | undefined;
        if (d >= 0 && (w.depth === undefined || d <= w.depth)) hit = change.path;
        else if (change.removed && depthBelow(w.abs, change.path) > 0) hit = w.abs;
        if (hit === undefined || !canRead(w.owner.caller, change.perms)) continue;
        w.owner.deliver(viewPath(hit, w.owner.caller.domid, w.relative), w.token);
      }
    }
  }

  /**
   * Fire `@introduceDomain` or `@releaseDomain` for `domid`. Plain watches get the bare name (as
   * classic xenstored); watches with a depth ≥ 1, or on `<name>/<domid>`, get `<name>/<domid>`.
   * Who may see them is decided by the pseudo node's perms (dom0 only unless changed).
   */
  fireSpecial(name: string, domid: number, perms: readonly XsPerm[]): void {
    const specific = `${name}/${domid}`;
    for (const list of [...this.byOwner.values()]) {
      for (const w of list) {
        let hit: string | undefined;
        if (w.abs === name) hit = (w.depth ?? 0) >= 1 ? specific : name;
        else if (w.abs === specific) hit = specific;
        if (hit === undefined || !canRead(w.owner.caller, perms)) continue;
        w.owner.deliver(hit, w.token);
      }
    }
  }
}
