// tree-ops.ts: the node operations (read, write, mkdir, rm, directory, perms) over a NodeView,
// with Xen's permission checks and quotas. Each mutation returns the Change that watches see.
import { XsError } from '../../abi/io/xs-error.ts';
import { baseName, childPath, parentOf } from './path.ts';
import { accessFor, checkPermList, type Access, type Caller, type XsPerm } from './permissions.ts';
import { checkEntrySize, checkNodes, type XsQuota } from './quota.ts';
import type { NodeView, XsNode } from './store.ts';

/** One watch-visible change: the node's path and its perms (to decide who may see the event). */
export interface Change {
  path: string;
  perms: readonly XsPerm[];
  /** A removal: watches below the path fire too (with their own path), as in Xen's fire_watches. */
  removed: boolean;
}

export interface OpContext {
  view: NodeView;
  caller: Caller;
  quota: XsQuota;
}

const EMPTY = Buffer.alloc(0);

/**
 * Find a node the caller needs `need` access to. A missing node is ENOENT only if the caller has
 * that access to its nearest existing ancestor, else EACCES (Xen's errno_from_parents), so
 * guests cannot probe for nodes they may not see.
 */
function lookup(ctx: OpContext, abs: string, need: keyof Access): XsNode {
  const node = ctx.view.get(abs);
  if (!node) {
    const anc = nearestExisting(ctx.view, abs);
    throw new XsError(!anc || accessFor(ctx.caller, anc.node.perms)[need] ? 'ENOENT' : 'EACCES');
  }
  if (!accessFor(ctx.caller, node.perms)[need]) throw new XsError('EACCES');
  return node;
}

/** Pseudo `@…` nodes have no ancestors; tree paths always reach the root. */
function nearestExisting(view: NodeView, abs: string): { path: string; node: XsNode } | undefined {
  if (abs.startsWith('@')) return undefined;
  for (let p = parentOf(abs); ; p = parentOf(p)) {
    const node = view.get(p);
    if (node) return { path: p, node };
    if (p === '/') return undefined;
  }
}

/**
 * The perms of a node created under `parent`: Xen's construct_node() copies the parent's list and,
 * when the creator is unprivileged, makes the creator the owner (dom0 keeps the parent's owner).
 */
function inheritPerms(parent: readonly XsPerm[], caller: Caller): XsPerm[] {
  const perms = parent.map((p) => ({ ...p }));
  if (!caller.privileged) perms[0] = { id: caller.domid, perm: perms[0]!.perm };
  return perms;
}

export function read(ctx: OpContext, abs: string): Buffer {
  return lookup(ctx, abs, 'read').value;
}

export function directory(ctx: OpContext, abs: string): { children: readonly string[]; gen: number } {
  const node = lookup(ctx, abs, 'read');
  return { children: node.children, gen: node.gen };
}

export function getPerms(ctx: OpContext, abs: string): readonly XsPerm[] {
  return lookup(ctx, abs, 'read').perms;
}

export function write(ctx: OpContext, abs: string, value: Buffer): Change {
  if (!ctx.caller.privileged) checkEntrySize(ctx.quota, value.length);
  const node = ctx.view.get(abs);
  if (!node) return create(ctx, abs, value);
  if (!accessFor(ctx.caller, node.perms).write) throw new XsError('EACCES');
  ctx.view.set(abs, { ...node, value });
  return { path: abs, perms: node.perms, removed: false };
}

/** MKDIR: create an empty node; an existing one is left alone and fires nothing (as Xen). */
export function mkdir(ctx: OpContext, abs: string): Change | null {
  const node = ctx.view.get(abs);
  if (node) {
    if (!accessFor(ctx.caller, node.perms).write) throw new XsError('EACCES');
    return null;
  }
  return create(ctx, abs, EMPTY);
}

/** Create `abs` and any missing parents; needs write access to the nearest existing ancestor. */
function create(ctx: OpContext, abs: string, value: Buffer): Change {
  const { view, caller } = ctx;
  const missing: string[] = [];
  let top = abs;
  for (; !view.get(top); top = parentOf(top)) missing.push(top);
  let parent = view.get(top)!;
  if (!accessFor(caller, parent.perms).write) throw new XsError('EACCES');
  if (!caller.privileged) checkNodes(ctx.quota, view.owned(caller.domid), missing.length);
  let parentPath = top;
  let perms: XsPerm[] = [];
  for (const path of missing.reverse()) {
    view.set(parentPath, { ...parent, children: [...parent.children, baseName(path)] });
    perms = inheritPerms(parent.perms, caller);
    view.set(path, { value: path === abs ? value : EMPTY, perms, children: [] });
    parentPath = path;
    parent = view.get(path)!;
  }
  return { path: abs, perms, removed: false };
}

/** RM: recursive; a missing node is fine if its parent exists (Xen's do_rm), else ENOENT. */
export function rm(ctx: OpContext, abs: string): Change | null {
  if (abs === '/') throw new XsError('EINVAL', 'cannot remove the root');
  const { view } = ctx;
  const node = view.get(abs);
  if (!node) {
    try {
      lookup(ctx, abs, 'write'); // EACCES when the caller may not even know whether it exists
    } catch (e) {
      if (!(e instanceof XsError && e.code === 'ENOENT')) throw e;
    }
    if (view.get(parentOf(abs))) return null;
    throw new XsError('ENOENT');
  }
  if (!accessFor(ctx.caller, node.perms).write) throw new XsError('EACCES');
  const parentPath = parentOf(abs);
  const parent = view.get(parentPath)!;
  const name = baseName(abs);
  view.set(parentPath, { ...parent, children: parent.children.filter((c) => c !== name) });
  removeSubtree(view, abs, node);
  return { path: abs, perms: node.perms, removed: true };
}

function removeSubtree(view: NodeView, abs: string, node: XsNode): void {
  for (const c of node.children) {
    const p = childPath(abs, c);
    const child = view.get(p);
    if (child) removeSubtree(view, p, child);
  }
  view.delete(abs);
}

/** SET_PERMS: owner (or privileged) only; an unprivileged owner may not give the node away. */
export function setPerms(ctx: OpContext, abs: string, list: readonly XsPerm[]): Change {
  const perms = checkPermList(list);
  const node = lookup(ctx, abs, 'owner');
  if (!ctx.caller.privileged && perms[0]!.id !== node.perms[0]!.id) throw new XsError('EPERM', 'cannot change the owner');
  ctx.view.set(abs, { ...node, perms });
  return { path: abs, perms, removed: false };
}
