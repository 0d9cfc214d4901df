// connection.ts: one xenstore client (a guest ring or a socket client) — its transactions and
// watches, request dispatch, and the reply/WATCH_EVENT messages it sends back.
import { XsError } from '../../abi/io/xs-error.ts';
import { HANDLERS } from './handlers.ts';
import type { Caller } from './permissions.ts';
import type { XsQuota } from './quota.ts';
import type { NodeView, Store } from './store.ts';
import { Transaction } from './transactions.ts';
import type { Change } from './tree-ops.ts';
import type { WatchOwner, WatchTable } from './watches.ts';
import { XS } from '../../abi/io/xs-wire.ts';
import { PAYLOAD_MAX, encodeMsg, nulJoin, type XsMsg } from './wire.ts';

/** What a connection needs from the daemon. */
export interface XsCore {
  readonly store: Store;
  readonly watches: WatchTable;
  readonly quota: XsQuota;
  log(line: string): void;
  /** A committed change: fire the watches. */
  changed(change: Change): void;
  isIntroduced(domid: number): boolean;
  /** INTRODUCE from a client: true if the domain is (now) introduced. */
  introduceRequest(domid: number, gfn: bigint, port: number): boolean;
  release(domid: number): void;
  resume(domid: number): void;
  setTarget(domid: number, target: number): void;
}

export class Connection implements WatchOwner {
  private readonly txs = new Map<number, Transaction>();
  private nextTxId = 1;
  /** While a request is handled, this connection's own events wait until its reply is out. */
  private held: Buffer[] | null = null;
  private closed = false;

  constructor(
    readonly core: XsCore,
    readonly caller: Caller,
    private readonly send: (msg: Buffer) => void,
  ) {}

  /** Handle one request; always answers it (reply or ERROR) unless the connection is closed. */
  handle(m: XsMsg): void {
    if (this.closed) return;
    this.held = [];
    let reply: Buffer;
    try {
      const handler = HANDLERS.get(m.type);
      if (!handler) throw new XsError('ENOSYS', `message type ${m.type}`);
      const payload = handler(this, m);
      if (payload.length > PAYLOAD_MAX) throw new XsError('E2BIG', 'reply too long');
      reply = encodeMsg(m.type, m.reqId, m.txId, payload);
    } catch (e) {
      if (!(e instanceof XsError)) this.core.log(`xenstored: dom${this.caller.domid} type ${m.type}: ${String(e)}`);
      const code = e instanceof XsError ? e.code : 'EIO';
      reply = encodeMsg(XS.ERROR, m.reqId, m.txId, nulJoin([code]));
    }
    const held = this.held;
    this.held = null;
    this.send(reply);
    for (const ev of held) this.send(ev);
  }

  /** WatchOwner: send a WATCH_EVENT (req_id = tx_id = 0). */
  deliver(path: string, token: string): void {
    if (this.closed) return;
    const ev = encodeMsg(XS.WATCH_EVENT, 0, 0, nulJoin([path, token]));
    if (this.held) this.held.push(ev);
    else this.send(ev);
  }

  /** The store, or the transaction `txId` names (ENOENT if unknown). */
  view(txId: number): NodeView {
    return txId === 0 ? this.core.store : this.tx(txId);
  }

  tx(txId: number): Transaction {
    const tx = this.txs.get(txId);
    if (!tx) throw new XsError('ENOENT', `no transaction ${txId}`);
    return tx;
  }

  /** A change made through `txId`: fire now, or keep it for the commit. */
  changed(txId: number, change: Change | null): void {
    if (!change) return;
    if (txId === 0) this.core.changed(change);
    else this.tx(txId).changes.push(change);
  }

  openTransactions(): number {
    return this.txs.size;
  }

  startTransaction(): Transaction {
    let id = this.nextTxId;
    while (id === 0 || this.txs.has(id)) id = (id + 1) >>> 0;
    this.nextTxId = (id + 1) >>> 0;
    const tx = new Transaction(this.core.store, id);
    this.txs.set(id, tx);
    return tx;
  }

  endTransaction(txId: number, commit: boolean): void {
    const tx = this.tx(txId);
    this.txs.delete(txId);
    if (!commit) return;
    if (!tx.commit()) throw new XsError('EAGAIN');
    for (const c of tx.changes) this.core.changed(c);
  }

  /** Forget watches and transactions (RESET_WATCHES, ring reconnect). */
  reset(): void {
    this.core.watches.clear(this);
    this.txs.clear();
  }

  /** The client is gone: nothing more is sent. */
  close(): void {
    this.reset();
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
