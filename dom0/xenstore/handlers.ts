// handlers.ts: one function per node, watch and transaction message type; each parses its payload,
// does the work through tree-ops and returns the reply payload (errors are thrown as XsError).
import type { Connection } from './connection.ts';
import { DOMAIN_HANDLERS } from './domain-handlers.ts';
import { XsError } from '../../abi/io/xs-error.ts';
import { resolvePath } from './path.ts';
import { formatPerm, parsePerm } from './permissions.ts';
import { checkTransactions, checkWatches } from './quota.ts';
import * as ops from './tree-ops.ts';
import { XS } from '../../abi/io/xs-wire.ts';
import { PAYLOAD_MAX, decimalArg, nulJoin, stringArgs, writeArgs, type XsMsg } from './wire.ts';

export type Handler = (c: Connection, m: XsMsg) => Buffer;

export const OK = nulJoin(['OK']);

function ctx(c: Connection, m: XsMsg): ops.OpContext {
  return { view: c.view(m.txId), caller: c.caller, quota: c.core.quota };
}

/** The single path argument of READ, DIRECTORY, MKDIR, RM… resolved for this caller. */
function pathArg(c: Connection, m: XsMsg, allowSpecial = false): string {
  return resolvePath(stringArgs(m.payload, 1)[0]!, c.caller.domid, allowSpecial);
}

/**
 * DIRECTORY_PART (docs/misc/xenstore.txt): `gencnt|` then as many whole child names (each with
 * its NUL) as fit, starting at byte `offset` of the full NUL-separated list; an extra NUL (an
 * empty name) marks the end of the list. An offset at or past the end returns just `gencnt||`.
 */
function directoryPart(c: Connection, m: XsMsg): Buffer {
  const [path, offArg] = stringArgs(m.payload, 2);
  const offset = decimalArg(offArg);
  const dir = ops.directory(ctx(c, m), resolvePath(path!, c.caller.domid));
  const all = nulJoin(dir.children);
  const gen = Buffer.from(`${dir.gen}\0`);
  if (offset >= all.length) return Buffer.concat([gen, Buffer.of(0)]);
  const room = PAYLOAD_MAX - gen.length - 1;
  let end = offset;
  while (end < all.length) {
    const next = all.indexOf(0, end) + 1;
    if (next - offset > room) break;
    end = next;
  }
  const tail = end === all.length ? Buffer.of(0) : Buffer.alloc(0);
  return Buffer.concat([gen, all.subarray(offset, end), tail]);
}

function watch(c: Connection, m: XsMsg): Buffer {
  const [path, token, depthArg] = stringArgs(m.payload, 2);
  const abs = resolvePath(path!, c.caller.domid, true);
  const depth = depthArg === undefined || depthArg === '' ? undefined : decimalArg(depthArg);
  if (!c.caller.privileged) checkWatches(c.core.quota, c.core.watches.count(c));
  const relative = !path!.startsWith('/') && !path!.startsWith('@');
  c.core.watches.add(c, abs, relative, token!, depth);
  c.deliver(path!, token!); // fires once straight away, after the OK (the connection holds it)
  return OK;
}

function unwatch(c: Connection, m: XsMsg): Buffer {
  const [path, token] = stringArgs(m.payload, 2);
  c.core.watches.remove(c, resolvePath(path!, c.caller.domid, true), token!);
  return OK;
}

function transactionEnd(c: Connection, m: XsMsg): Buffer {
  const [arg] = stringArgs(m.payload, 1);
  if (m.txId === 0) throw new XsError('ENOENT', 'TRANSACTION_END without a transaction');
  if (arg !== 'T' && arg !== 'F') {
    c.tx(m.txId); // unknown id still answers ENOENT first
    throw new XsError('EINVAL', 'TRANSACTION_END wants T or F');
  }
  c.endTransaction(m.txId, arg === 'T');
  return OK;
}

const NODE_HANDLERS: [number, Handler][] = [
  [XS.DIRECTORY, (c, m) => nulJoin(ops.directory(ctx(c, m), pathArg(c, m)).children)],
  [XS.DIRECTORY_PART, directoryPart],
  [XS.READ, (c, m) => ops.read(ctx(c, m), pathArg(c, m))],
  [XS.GET_PERMS, (c, m) => nulJoin(ops.getPerms(ctx(c, m), pathArg(c, m, true)).map(formatPerm))],
  [XS.WRITE, (c, m) => {
    const { path, value } = writeArgs(m.payload);
    c.changed(m.txId, ops.write(ctx(c, m), resolvePath(path, c.caller.domid), value));
    return OK;
  }],
  [XS.MKDIR, (c, m) => (c.changed(m.txId, ops.mkdir(ctx(c, m), pathArg(c, m))), OK)],
  [XS.RM, (c, m) => (c.changed(m.txId, ops.rm(ctx(c, m), pathArg(c, m))), OK)],
  [XS.SET_PERMS, (c, m) => {
    const [path, ...perms] = stringArgs(m.payload, 2);
    const abs = resolvePath(path!, c.caller.domid, true);
    c.changed(m.txId, ops.setPerms(ctx(c, m), abs, perms.map(parsePerm)));
    return OK;
  }],
  [XS.WATCH, watch],
  [XS.UNWATCH, unwatch],
  [XS.TRANSACTION_START, (c) => {
    if (!c.caller.privileged) checkTransactions(c.core.quota, c.openTransactions());
    return nulJoin([String(c.startTransaction().id)]);
  }],
  [XS.TRANSACTION_END, transactionEnd],
  [XS.RESET_WATCHES, (c) => (c.reset(), OK)],
];

/** Message type → handler. Types not here (GET/SET_FEATURE, GET/SET_QUOTA, …) answer ENOSYS. */
export const HANDLERS: ReadonlyMap<number, Handler> = new Map([...NODE_HANDLERS, ...DOMAIN_HANDLERS]);
