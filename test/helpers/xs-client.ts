// xs-client.ts: xenstore test clients — a Unix-socket client and a mock guest ring in a plain
// Uint8Array — that send requests, await replies by req_id and collect watch events.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { XsQuota } from '../../dom0/xenstore/quota.ts';
import type { XsRingTransport } from '../../dom0/xenstore/ring-transport.ts';
import { XS } from '../../abi/io/xs-wire.ts';
import { FrameParser, encodeMsg, type XsMsg } from '../../dom0/xenstore/wire.ts';
import { Xenstored } from '../../dom0/xenstore/xenstored.ts';

/** Generous: only there so a broken server fails a test instead of hanging it. */
const WAIT_MS = 10_000;

export interface WatchEvent {
  path: string;
  token: string;
}

/** An ERROR reply, thrown by the convenience methods. */
export class XsReplyError extends Error {
  constructor(readonly code: string, readonly reply: XsMsg) {
    super(code);
  }
}

function payloadOf(p: Buffer | string | readonly string[]): Buffer {
  if (Buffer.isBuffer(p)) return p;
  if (typeof p === 'string') return Buffer.from(p, 'utf8');
  return Buffer.from(p.map((s) => `${s}\0`).join(''), 'utf8');
}

/** The strings of a NUL-separated reply payload (the final NUL dropped). */
export function replyStrings(m: XsMsg): string[] {
  const s = m.payload.toString('utf8');
  return (s.endsWith('\0') ? s.slice(0, -1) : s).split('\0');
}

export function errorCode(m: XsMsg): string | undefined {
  return m.type === XS.ERROR ? replyStrings(m)[0] : undefined;
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export abstract class XsClientBase {
  private nextReq = 1;
  private readonly pending = new Map<number, (m: XsMsg) => void>();
  private readonly eventWaiters: ((e: WatchEvent) => void)[] = [];
  /** Watch events not yet taken by nextEvent(). */
  readonly events: WatchEvent[] = [];
  /** Every message received, in order (for ordering checks). */
  readonly received: XsMsg[] = [];
  protected readonly parser = new FrameParser();

  protected abstract sendBytes(b: Buffer): void;

  protected onBytes(b: Uint8Array): void {
    for (const m of this.parser.push(b)) this.onMessage(m);
  }

  private onMessage(m: XsMsg): void {
    this.received.push(m);
    if (m.type === XS.WATCH_EVENT) {
      const [path, token] = replyStrings(m);
      const ev = { path: path!, token: token! };
      const w = this.eventWaiters.shift();
      if (w) w(ev);
      else this.events.push(ev);
      return;
    }
    const r = this.pending.get(m.reqId);
    if (r) {
      this.pending.delete(m.reqId);
      r(m);
    }
  }

  /** Send one request and resolve with its reply (ERROR replies resolve too). */
  request(type: number, payload: Buffer | string | readonly string[], txId = 0, reqId?: number): Promise<XsMsg> {
    const id = reqId ?? this.nextReq++;
    const p = this.awaitReply(id);
    this.sendBytes(encodeMsg(type, id, txId, payloadOf(payload)));
    return p;
  }

  /** The reply to `reqId`, for requests sent by hand (sendRaw). */
  awaitReply(reqId: number): Promise<XsMsg> {
    const p = new Promise<XsMsg>((resolve) => this.pending.set(reqId, resolve));
    return withTimeout(p, `reply to req ${reqId}`);
  }

  /** Like request(), but throws XsReplyError on ERROR and returns the payload's strings. */
  async call(type: number, payload: Buffer | string | readonly string[], txId = 0): Promise<string[]> {
    const m = await this.request(type, payload, txId);
    const code = errorCode(m);
    if (code !== undefined) throw new XsReplyError(code, m);
    return replyStrings(m);
  }

  /** The error name a request fails with, or 'OK' if it succeeds. */
  async errorOf(type: number, payload: Buffer | string | readonly string[], txId = 0): Promise<string> {
    return errorCode(await this.request(type, payload, txId)) ?? 'OK';
  }

  async read(path: string, txId = 0): Promise<string> {
    const m = await this.request(XS.READ, [path], txId);
    const code = errorCode(m);
    if (code !== undefined) throw new XsReplyError(code, m);
    return m.payload.toString('utf8');
  }

  async write(path: string, value: string, txId = 0): Promise<void> {
    await this.call(XS.WRITE, Buffer.concat([Buffer.from(`${path}\0`), Buffer.from(value)]), txId);
  }

  async mkdir(path: string, txId = 0): Promise<void> {
    await this.call(XS.MKDIR, [path], txId);
  }

  async rm(path: string, txId = 0): Promise<void> {
    await this.call(XS.RM, [path], txId);
  }

  async directory(path: string, txId = 0): Promise<string[]> {
    const m = await this.request(XS.DIRECTORY, [path], txId);
    const code = errorCode(m);
    if (code !== undefined) throw new XsReplyError(code, m);
    return m.payload.length === 0 ? [] : replyStrings(m);
  }

  async getPerms(path: string, txId = 0): Promise<string[]> {
    return this.call(XS.GET_PERMS, [path], txId);
  }

  async setPerms(path: string, perms: string[], txId = 0): Promise<void> {
    await this.call(XS.SET_PERMS, [path, ...perms], txId);
  }

  async watch(path: string, token: string, depth?: number): Promise<void> {
    await this.call(XS.WATCH, depth === undefined ? [path, token] : [path, token, String(depth)]);
  }

  async unwatch(path: string, token: string): Promise<void> {
    await this.call(XS.UNWATCH, [path, token]);
  }

  async txStart(): Promise<number> {
    return Number((await this.call(XS.TRANSACTION_START, ['']))[0]);
  }

  async txEnd(txId: number, commit: boolean): Promise<void> {
    await this.call(XS.TRANSACTION_END, [commit ? 'T' : 'F'], txId);
  }

  /** The next watch event (already received or still to come). */
  nextEvent(): Promise<WatchEvent> {
    const e = this.events.shift();
    if (e) return Promise.resolve(e);
    return withTimeout(new Promise<WatchEvent>((resolve) => this.eventWaiters.push(resolve)), 'a watch event');
  }

  /** Take all events received so far, after a round trip has flushed anything in flight. */
  async drainEvents(): Promise<WatchEvent[]> {
    await this.request(XS.GET_DOMAIN_PATH, ['0']);
    return this.events.splice(0);
  }
}

export class XsSocketClient extends XsClientBase {
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;

  private constructor(private readonly sock: Socket) {
    super();
    sock.on('data', (d: Buffer) => this.onBytes(d));
    this.closed = new Promise((resolve) => sock.on('close', () => resolve()));
    sock.on('error', () => {});
  }

  static connect(path: string): Promise<XsSocketClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(path, () => resolve(new XsSocketClient(sock)));
      sock.once('error', reject);
    });
  }

  /** Write raw bytes (malformed-frame tests). */
  sendRaw(b: Uint8Array): void {
    this.sock.write(b);
  }

  protected sendBytes(b: Buffer): void {
    this.sock.write(b);
  }

  close(): void {
    this.sock.destroy();
  }
}

// The guest's view of xenstore_domain_interface, written out here on purpose rather than taken
// from abi/io/xs-wire.ts: a mock with its own numbers cannot share a layout mistake with the server.
const RING = 1024;
const RSP = 1024;
const IDX = 2048;

/**
 * The guest side of a xenstore ring, in a plain Uint8Array. Requests go into req (waiting for
 * space if needed) and the server is kicked; notify() drains rsp asynchronously, as a guest's
 * interrupt handler would (never re-entering the server from inside its own kick).
 */
export class MockGuestRing extends XsClientBase {
  readonly page = new Uint8Array(4096);
  readonly idx = new Int32Array(this.page.buffer, IDX, 8);
  notifications = 0;
  /** When false, rsp is left unread (to fill it up); call consume() by hand. */
  autoConsume = true;
  private backlog: Buffer[] = [];
  private kickServer: () => void = () => {};

  readonly transport: XsRingTransport = {
    page: this.page,
    notify: () => {
      this.notifications++;
      queueMicrotask(() => this.service());
    },
  };

  /** How to signal the server (normally `() => xenstored.kick(domid)`). */
  attach(kick: () => void): void {
    this.kickServer = kick;
  }

  /** Place bytes in req (and kick) without any framing: for split and garbage tests. */
  sendRaw(b: Uint8Array, kick = true): void {
    this.backlog.push(Buffer.from(b));
    this.pushRequests();
    if (kick) this.kickServer();
  }

  protected sendBytes(b: Buffer): void {
    this.sendRaw(b);
  }

  /** Read what the server put in rsp; returns the number of bytes taken. */
  consume(): number {
    const cons = Atomics.load(this.idx, 2) >>> 0;
    const prod = Atomics.load(this.idx, 3) >>> 0;
    const n = (prod - cons) >>> 0;
    if (n === 0 || n > RING) return 0;
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.page[RSP + ((cons + i) & (RING - 1))]!;
    Atomics.store(this.idx, 2, (cons + n) | 0);
    this.onBytes(out);
    return n;
  }

  private service(): void {
    const moved = this.pushRequests();
    const took = this.autoConsume ? this.consume() : 0;
    if (took > 0 || moved > 0) this.kickServer();
  }

  /** Copy waiting request bytes into req as space allows; returns bytes moved. */
  private pushRequests(): number {
    let moved = 0;
    while (this.backlog.length > 0) {
      const cons = Atomics.load(this.idx, 0) >>> 0;
      let prod = Atomics.load(this.idx, 1) >>> 0;
      const free = RING - ((prod - cons) >>> 0);
      if (free <= 0) break;
      const b = this.backlog[0]!;
      const n = Math.min(free, b.length);
      for (let i = 0; i < n; i++) this.page[(prod + i) & (RING - 1)] = b[i]!;
      prod = (prod + n) >>> 0;
      Atomics.store(this.idx, 1, prod | 0);
      moved += n;
      if (n === b.length) this.backlog.shift();
      else this.backlog[0] = b.subarray(n);
    }
    return moved;
  }

  /** Start the indices somewhere other than 0 (guests must not assume 0). */
  setIndices(req: number, rsp: number): void {
    Atomics.store(this.idx, 0, req | 0);
    Atomics.store(this.idx, 1, req | 0);
    Atomics.store(this.idx, 2, rsp | 0);
    Atomics.store(this.idx, 3, rsp | 0);
  }
}

/** A running daemon on a temp-dir socket, with helpers to connect clients and introduce guests. */
export interface XsHarness {
  xs: Xenstored;
  sockPath: string;
  logs: string[];
  connect(): Promise<XsSocketClient>;
  /** Introduce `domid` with a fresh mock ring (and create its home, owned by it, as a toolstack would). */
  guest(domid: number, opts?: { home?: boolean }): MockGuestRing;
  close(): Promise<void>;
}

export async function startXenstored(opts: { quota?: Partial<XsQuota> } = {}): Promise<XsHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-xs-'));
  const logs: string[] = [];
  const xs = new Xenstored({ quota: opts.quota, log: (l) => logs.push(l) });
  const sockPath = join(dir, 'socket');
  await xs.listen(sockPath);
  const clients: XsSocketClient[] = [];
  return {
    xs, sockPath, logs,
    async connect() {
      const c = await XsSocketClient.connect(sockPath);
      clients.push(c);
      return c;
    },
    guest(domid, { home = true } = {}) {
      if (home) {
        xs.local.mkdir(`/local/domain/${domid}`);
        xs.local.setPerms(`/local/domain/${domid}`, [{ id: domid, perm: 'n' }]);
      }
      const g = new MockGuestRing();
      g.attach(() => xs.kick(domid));
      xs.introduceDomain(domid, g.transport);
      return g;
    },
    async close() {
      for (const c of clients) c.close();
      await xs.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
