// local.ts: XsLocal, the synchronous in-process dom0 API the toolstack and backends use.
import { XsError } from '../../abi/io/xs-error.ts';
import { resolvePath } from './path.ts';
import { DOM0_CALLER, type XsPerm } from './permissions.ts';
import type { NodeView } from './store.ts';
import { Transaction } from './transactions.ts';
import * as ops from './tree-ops.ts';
import type { XsCore } from './connection.ts';
import type { WatchOwner } from './watches.ts';

/** Node operations, on the live store or inside a transaction. Errors are thrown as XsError. */
export interface XsLocalTx {
  read(path: string): string | null;
  write(path: string, value: string): void;
  mkdir(path: string): void;
  rm(path: string): void;
  directory(path: string): string[] | null;
  getPerms(path: string): XsPerm[] | null;
  setPerms(path: string, perms: XsPerm[]): void;
}

export interface XsLocal extends XsLocalTx {
  /**
   * Watch `path` (and everything below it). The callback runs once straight away and then for every
   * change, always from a microtask, never inside the store operation that caused it.
   */
  watch(path: string, cb: (path: string, token: string) => void, token?: string): () => void;
  /** Run fn in a transaction; retried on conflict (up to 5 tries, then EAGAIN). fn must not await. */
  transaction<T>(fn: (tx: XsLocalTx) => T): T;
}

const TX_TRIES = 5;

function orNull<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    if (e instanceof XsError && e.code === 'ENOENT') return null;
    throw e;
  }
}

function nodeOps(core: XsCore, view: NodeView, changed: (c: ops.Change | null) => void): XsLocalTx {
  const ctx: ops.OpContext = { view, caller: DOM0_CALLER, quota: core.quota };
  const abs = (p: string, special = false) => resolvePath(p, 0, special);
  return {
    read: (p) => orNull(() => ops.read(ctx, abs(p)).toString('utf8')),
    write: (p, v) => changed(ops.write(ctx, abs(p), Buffer.from(v, 'utf8'))),
    mkdir: (p) => changed(ops.mkdir(ctx, abs(p))),
    rm: (p) => {
      const path = abs(p);
      if (ctx.view.get(path)) changed(ops.rm(ctx, path));
    },
    directory: (p) => orNull(() => [...ops.directory(ctx, abs(p)).children]),
    getPerms: (p) => orNull(() => ops.getPerms(ctx, abs(p, true)).map((x) => ({ ...x }))),
    setPerms: (p, perms) => changed(ops.setPerms(ctx, abs(p, true), perms)),
  };
}

export function makeLocal(core: XsCore): XsLocal {
  const base = nodeOps(core, core.store, (c) => c && core.changed(c));
  let watchSeq = 0;
  return {
    ...base,
    watch(path, cb, token) {
      const target = resolvePath(path, 0, true);
      const tok = token ?? `local-${++watchSeq}`;
      let active = true;
      const owner: WatchOwner = {
        caller: DOM0_CALLER,
        deliver: (p, t) => queueMicrotask(() => {
          if (active) cb(p, t);
        }),
      };
      const relative = !path.startsWith('/') && !path.startsWith('@');
      core.watches.add(owner, target, relative, tok);
      owner.deliver(path, tok);
      return () => {
        active = false;
        core.watches.clear(owner);
      };
    },
    transaction<T>(fn: (tx: XsLocalTx) => T): T {
      for (let i = 0; i < TX_TRIES; i++) {
        const tx = new Transaction(core.store, 0);
        const result = fn(nodeOps(core, tx, (c) => c && tx.changes.push(c)));
        if (tx.commit()) {
          for (const c of tx.changes) core.changed(c);
          return result;
        }
      }
      throw new XsError('EAGAIN', 'transaction kept conflicting');
    },
  };
}
