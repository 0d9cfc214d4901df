// ring-transport.ts: serves one guest's xenstore_domain_interface page — copies requests out of the
// req ring, feeds them to the guest's Connection, and streams replies and watch events into rsp.
import { offsetOf } from '../../abi/layout.ts';
import { XENSTORE, XS, XenstoreDomainInterface } from '../../abi/io/xs-wire.ts';
import type { Connection } from './connection.ts';
import { FrameParser, FrameTooLong } from './wire.ts';

/** What the toolstack hands over when it introduces a domain. */
export interface XsRingTransport {
  /** A 4096-byte view of the guest's xenstore_domain_interface page (the guest writes it concurrently). */
  readonly page: Uint8Array;
  /** Signal the guest's store event channel. */
  notify(): void;
}

/** Layout of xenstore_domain_interface (xs_wire.h, docs/xen-abi.md §12.2; abi/io/xs-wire.ts). */
const XSI = XenstoreDomainInterface;
export const RING_SIZE = XENSTORE.values.RING_SIZE;
const REQ_OFFSET = offsetOf(XSI, 'req');
const RSP_OFFSET = offsetOf(XSI, 'rsp');
/** The u32 indices and flags that follow the two rings. */
const INDEX_OFFSET = offsetOf(XSI, 'req_cons');
const word = (f: 'req_cons' | 'req_prod' | 'rsp_cons' | 'rsp_prod' | 'server_features' | 'connection' | 'error' | 'evtchn_port'): number =>
  (offsetOf(XSI, f) - INDEX_OFFSET) / 4;
/** Word indices in the Int32Array over the index block. */
export const IDX = {
  reqCons: word('req_cons'), reqProd: word('req_prod'), rspCons: word('rsp_cons'), rspProd: word('rsp_prod'),
  serverFeatures: word('server_features'), connection: word('connection'), error: word('error'), evtchnPort: word('evtchn_port'),
} as const;

const X = XENSTORE.values;
/** What this server offers in server_features. */
export const SERVER_FEATURES = X.SERVER_FEATURE_RECONNECTION | X.SERVER_FEATURE_ERROR | X.SERVER_FEATURE_WATCHDEPTH;

/** Stop taking requests while this many reply bytes wait for rsp space (back-pressure). */
const BACKLOG_LIMIT = 16 * 1024;
/** Past this much queued output, watch events are dropped rather than queued without bound. */
const EVENT_DROP_LIMIT = 256 * 1024;
/** And past this many queued watch events (oxenstored's quota-maxwatchevents default). */
const EVENT_COUNT_LIMIT = 1024;
/** Rounds of reading per kick, so one busy guest cannot hold the event loop forever. */
const MAX_ROUNDS = 64;

export class RingServer {
  private readonly idx: Int32Array;
  private readonly parser = new FrameParser();
  private out: Buffer[] = [];
  private outHead = 0; // bytes of out[0] already written
  private queued = 0;
  private inKick = false;
  private wrote = false;
  private dead = false;
  private dropped = 0;
  /** WATCH_EVENT messages in `out` (not yet wholly in the rsp ring). */
  private events = 0;
  conn!: Connection;

  constructor(
    readonly domid: number,
    private readonly ring: XsRingTransport,
    private readonly log: (line: string) => void,
    private readonly onFail: (error: number) => void = () => {},
  ) {
    const { page } = ring;
    if (page.length < 4096 || (page.byteOffset + INDEX_OFFSET) % 4 !== 0) throw new Error('xenstore ring page must be a 4096-byte, 4-aligned view');
    this.idx = new Int32Array(page.buffer, page.byteOffset + INDEX_OFFSET, IDX.evtchnPort + 1);
    Atomics.store(this.idx, IDX.serverFeatures, SERVER_FEATURES);
  }

  /** The guest is no longer served (bad ring index or protocol error). */
  get failed(): boolean {
    return this.dead;
  }

  /** Called by the Connection for every reply and watch event. */
  send(msg: Buffer): void {
    if (this.dead) return;
    const event = msg.readUInt32LE(0) === XS.WATCH_EVENT;
    if (event && (this.queued > EVENT_DROP_LIMIT || this.events >= EVENT_COUNT_LIMIT)) {
      if (this.dropped++ === 0) this.log(`xenstored: dom${this.domid} is not reading its ring; dropping watch events`);
      return;
    }
    if (event) this.events++;
    this.out.push(msg);
    this.queued += msg.length;
    this.flush();
    if (!this.inKick && this.wrote) this.signal();
  }

  /** The guest signalled: handle a reconnect, drain replies, consume and answer requests. */
  kick(): void {
    if (this.dead) return;
    if (Atomics.load(this.idx, IDX.connection) === X.RECONNECT) {
      this.reconnect();
      return;
    }
    this.inKick = true;
    try {
      this.flush();
      for (let round = 0; round < MAX_ROUNDS && !this.dead && this.queued < BACKLOG_LIMIT; round++) {
        const bytes = this.takeRequests();
        if (!bytes || bytes.length === 0) break;
        let msgs;
        try {
          msgs = this.parser.push(bytes);
        } catch (e) {
          if (!(e instanceof FrameTooLong)) throw e;
          this.fail(X.ERROR_PROTO, e.message);
          break;
        }
        for (const m of msgs) this.conn.handle(m);
      }
    } finally {
      this.inKick = false;
    }
    if (this.wrote) this.signal();
  }

  /** Stop serving (domain released). */
  close(): void {
    this.dead = true;
    this.out = [];
    this.queued = 0;
    this.events = 0;
  }

  /**
   * Copy out everything between req_cons and req_prod, reading each index once and checking it
   * before use: the guest may rewrite the ring at any time, so nothing is parsed in place.
   */
  private takeRequests(): Buffer | undefined {
    const prod = Atomics.load(this.idx, IDX.reqProd) >>> 0;
    const cons = Atomics.load(this.idx, IDX.reqCons) >>> 0;
    const avail = (prod - cons) >>> 0;
    if (avail > RING_SIZE) {
      this.fail(X.ERROR_RINGIDX, `req indices cons=${cons} prod=${prod}`);
      return undefined;
    }
    const bytes = Buffer.allocUnsafe(avail);
    const start = cons & (RING_SIZE - 1);
    const first = Math.min(avail, RING_SIZE - start);
    const page = this.ring.page;
    bytes.set(page.subarray(REQ_OFFSET + start, REQ_OFFSET + start + first), 0);
    if (first < avail) bytes.set(page.subarray(REQ_OFFSET, REQ_OFFSET + avail - first), first);
    if (avail > 0) {
      Atomics.store(this.idx, IDX.reqCons, (cons + avail) | 0);
      this.wrote = true; // the guest may be waiting for req space
    }
    return bytes;
  }

  /** Write as much queued output as the rsp ring has room for. */
  private flush(): void {
    if (this.queued === 0 || this.dead) return;
    const cons = Atomics.load(this.idx, IDX.rspCons) >>> 0;
    const prod = Atomics.load(this.idx, IDX.rspProd) >>> 0;
    const used = (prod - cons) >>> 0;
    if (used > RING_SIZE) {
      this.fail(X.ERROR_RINGIDX, `rsp indices cons=${cons} prod=${prod}`);
      return;
    }
    let free = RING_SIZE - used;
    let at = prod;
    const page = this.ring.page;
    while (free > 0 && this.out.length > 0) {
      const msg = this.out[0]!;
      const slot = at & (RING_SIZE - 1);
      const n = Math.min(free, msg.length - this.outHead, RING_SIZE - slot);
      page.set(msg.subarray(this.outHead, this.outHead + n), RSP_OFFSET + slot);
      this.outHead += n;
      at = (at + n) >>> 0;
      free -= n;
      this.queued -= n;
      if (this.outHead === msg.length) {
        if (msg.readUInt32LE(0) === XS.WATCH_EVENT) this.events--;
        this.out.shift();
        this.outHead = 0;
      }
    }
    if (at !== prod) {
      Atomics.store(this.idx, IDX.rspProd, at | 0); // after the data: Atomics.store is a full barrier
      this.wrote = true;
    }
  }

  /**
   * connection = RECONNECT (xenstore-ring.txt): drop partial messages, watches and transactions,
   * zero all four indices, then report CONNECTED and signal.
   */
  private reconnect(): void {
    this.conn.reset();
    this.parser.reset();
    this.out = [];
    this.outHead = 0;
    this.queued = 0;
    this.events = 0;
    for (const i of [IDX.reqCons, IDX.reqProd, IDX.rspCons, IDX.rspProd]) Atomics.store(this.idx, i, 0);
    Atomics.store(this.idx, IDX.connection, X.CONNECTED);
    this.signal();
  }

  private fail(code: number, why: string): void {
    this.log(`xenstored: dom${this.domid} ring error ${code} (${why}); no longer serving it`);
    Atomics.store(this.idx, IDX.error, code);
    this.conn.close();
    this.close();
    this.wrote = true;
    this.onFail(code);
  }

  private signal(): void {
    this.wrote = false;
    this.ring.notify();
  }
}
