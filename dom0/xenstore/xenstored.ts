// xenstored.ts: the dom0 xenstore daemon — one store, guest rings, a Unix socket for privileged
// clients, and the synchronous in-process API (`local`) for the toolstack and backends.
import { EventEmitter } from 'eventemitter3';
import { Connection, type XsCore } from './connection.ts';
import { XsError } from '../../abi/io/xs-error.ts';
import { makeLocal, type XsLocal } from './local.ts';
import { INTRODUCE_DOMAIN, RELEASE_DOMAIN } from './path.ts';
import type { Caller, XsPerm } from './permissions.ts';
import { makeQuota, type XsQuota } from './quota.ts';
import { RingServer, type XsRingTransport } from './ring-transport.ts';
import { SocketServer } from './socket-server.ts';
import { Store } from './store.ts';
import { loadStore, StoreSaver, type SavedWatches } from './persist.ts';
import type { Change } from './tree-ops.ts';
import { WatchTable } from './watches.ts';

export { XsError, type XsdError } from '../../abi/io/xs-error.ts';
export type { XsLocal, XsLocalTx } from './local.ts';
export type { XsPerm, XsPermLetter } from './permissions.ts';
export type { XsQuota } from './quota.ts';
export type { XsRingTransport } from './ring-transport.ts';

export interface XenstoredEvents {
  'domain-introduced': (domid: number) => void;
  'domain-released': (domid: number) => void;
  /**
   * A privileged client sent INTRODUCE for a domain that has no ring yet. A listener may call
   * introduceDomain() synchronously; the client gets OK if it did, EINVAL otherwise.
   */
  'introduce-request': (domid: number, gfn: bigint, port: number) => void;
  /** A guest ring was shut off (bad index or oversized message): error is the ring's error code. */
  'ring-error': (domid: number, error: number) => void;
}

interface GuestDomain {
  ring: RingServer;
  conn: Connection;
  caller: Caller;
}

export class Xenstored extends EventEmitter<XenstoredEvents> implements XsCore {
  readonly store = new Store();
  readonly watches = new WatchTable(() => { if (!this.closing) this.saver?.changed(); });
  readonly quota: XsQuota;
  /** In-process dom0 access (domid 0, full privileges) for the toolstack and backends. Synchronous. */
  readonly local: XsLocal;
  private readonly domains = new Map<number, GuestDomain>();
  private readonly logLine: (line: string) => void;
  private readonly socket: SocketServer;

  /** True when the tree was restored from `persistPath` (a dom0 restart). */
  readonly restored: boolean = false;
  private readonly saver: StoreSaver | null = null;
  /** Set by close(): the file keeps what was there (dropping the guests' connections must not save them away). */
  private closing = false;
  /** Guests' watches from the saved store, given back when each domain is adopted. */
  private savedWatches: SavedWatches = new Map();

  /** `persistPath`: keep the tree in this file and start from it when it exists. */
  constructor(opts: { quota?: Partial<XsQuota>; log?: (line: string) => void; persistPath?: string } = {}) {
    super();
    this.quota = makeQuota(opts.quota);
    this.logLine = opts.log ?? (() => {});
    if (opts.persistPath !== undefined) {
      const watches = loadStore(this.store, opts.persistPath, this.logLine);
      this.restored = watches !== null;
      this.savedWatches = watches ?? new Map();
      this.saver = new StoreSaver(this.store, opts.persistPath, this.logLine, () => this.guestWatches());
    }
    // The pseudo nodes whose perms decide who sees @introduceDomain/@releaseDomain (dom0 only).
    for (const name of [INTRODUCE_DOMAIN, RELEASE_DOMAIN]) {
      if (this.store.get(name) === undefined) this.store.set(name, { value: Buffer.alloc(0), perms: [{ id: 0, perm: 'n' }], children: [] });
    }
    this.local = makeLocal(this);
    this.socket = new SocketServer((send) => new Connection(this, { domid: 0, privileged: true }, send), this.logLine);
  }

  log(line: string): void {
    this.logLine(line);
  }

  changed(change: Change): void {
    if (!this.closing) this.saver?.changed();
    this.watches.fire(change);
  }

  specialPerms(name: string): readonly XsPerm[] {
    return this.store.get(name)?.perms ?? [{ id: 0, perm: 'n' }];
  }

  /** Every introduced guest's watches, for the saved store. */
  private guestWatches(): SavedWatches {
    const out: SavedWatches = new Map();
    for (const [domid, d] of this.domains) {
      const list = this.watches.saved(d.conn);
      if (list.length > 0) out.set(domid, list);
    }
    return out;
  }

  /**
   * Attach a guest's store ring (XENSTORE introduce). Fires @introduceDomain watches. `adopted`:
   * a domain that outlived the previous dom0 gets back the watches the saved store kept for it
   * (without the initial event, as after Xen's live update).
   */
  introduceDomain(domid: number, ring: XsRingTransport, opts: { adopted?: boolean } = {}): void {
    if (!Number.isInteger(domid) || domid <= 0 || domid >= 0x7ff0) throw new XsError('EINVAL', `bad domid ${domid}`);
    if (this.domains.has(domid)) throw new XsError('EEXIST', `domain ${domid} already introduced`);
    const caller: Caller = { domid, privileged: false };
    const server = new RingServer(domid, ring, this.logLine, (error) => this.emit('ring-error', domid, error));
    const conn = new Connection(this, caller, (msg) => server.send(msg));
    server.conn = conn;
    this.domains.set(domid, { ring: server, conn, caller });
    const saved = this.savedWatches.get(domid);
    this.savedWatches.delete(domid);
    if (opts.adopted === true) {
      for (const w of saved ?? []) {
        try {
          this.watches.add(conn, w.abs, w.relative, w.token, w.depth);
        } catch {
          // A duplicate row: the watch is there once.
        }
      }
    }
    this.watches.fireSpecial(INTRODUCE_DOMAIN, domid, this.specialPerms(INTRODUCE_DOMAIN));
    this.emit('domain-introduced', domid);
    server.kick(); // requests the guest queued before it was introduced
  }

  /** The guest signalled its store event channel: consume requests, write replies. */
  kick(domid: number): void {
    const d = this.domains.get(domid);
    if (!d || d.ring.failed) return;
    d.ring.kick();
  }

  /**
   * Drop the domain's connection, watches and transactions and fire @releaseDomain. The domain's
   * nodes stay: the toolstack removes /local/domain/<domid> itself.
   */
  releaseDomain(domid: number): void {
    const d = this.domains.get(domid);
    if (!d) return;
    this.domains.delete(domid);
    d.conn.close();
    d.ring.close();
    this.watches.fireSpecial(RELEASE_DOMAIN, domid, this.specialPerms(RELEASE_DOMAIN));
    this.emit('domain-released', domid);
  }

  isIntroduced(domid: number): boolean {
    return domid === 0 || this.domains.has(domid);
  }

  introduceRequest(domid: number, gfn: bigint, port: number): boolean {
    if (!this.domains.has(domid)) this.emit('introduce-request', domid, gfn, port);
    return this.domains.has(domid);
  }

  release(domid: number): void {
    this.releaseDomain(domid);
  }

  /** RESUME: xenstored clears its "shutting down" mark; there is nothing to clear here. */
  resume(domid: number): void {
    if (!this.domains.has(domid)) throw new XsError('ENOENT');
  }

  /** SET_TARGET: `domid` (a device model) gets owner rights over `target`'s nodes. */
  setTarget(domid: number, target: number): void {
    const d = this.domains.get(domid);
    if (!d) throw new XsError('ENOENT');
    d.caller.target = target;
  }

  /** Serve Unix-socket clients (privileged, domid 0) at `path` (mode 0600, replaces a stale socket file). */
  listen(path: string): Promise<void> {
    return this.socket.listen(path);
  }

  async close(): Promise<void> {
    this.saver?.flush();
    this.closing = true;
    await this.socket.close();
    for (const domid of [...this.domains.keys()]) {
      const d = this.domains.get(domid)!;
      d.conn.close();
      d.ring.close();
    }
    this.domains.clear();
  }
}
