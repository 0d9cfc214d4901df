// mock-frontend.ts: the guest side of the block protocol without a guest (docs/architecture.md §2) — a memfd
// as guest memory, a grant table and event channels faked on it, an in-memory xenstore, and a
// blkfront that negotiates (docs/xen-abi.md §13), builds requests in either ABI and reads answers.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { libc, mapShared, EFD_CLOEXEC, EFD_NONBLOCK, MFD_CLOEXEC } from '../../host/libc.ts';
import type { XenbusPerm, XenbusStore, XenbusTx } from '../../dom0/backend-sdk/xenbus/store-api.ts';
import type { BackendContext, BoundChannel, ChannelService, GrantMapOp, GrantMapResult, GrantService } from '../../dom0/backend-sdk/context.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAGE = 4096;
const KOFFI = pathToFileURL(createRequire(import.meta.url).resolve('koffi')).href;
let handleSeq = 1;

/** Bundle a worker entry (TS) into a temp dir once per process; its URL for `new Worker`. */
const bundles = new Map<string, Promise<URL>>();
export function bundleWorker(entry: string): Promise<URL> {
  let p = bundles.get(entry);
  if (p === undefined) {
    const out = join(mkdtempSync(join(tmpdir(), 'pvkvm-worker-')), 'worker.mjs');
    p = build({
      entryPoints: [join(ROOT, entry)], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20',
      logLevel: 'warning',
      // The bundle lives outside the repo: point it at this checkout's koffi by absolute path.
      plugins: [{ name: 'koffi', setup(b) { b.onResolve({ filter: /^koffi$/ }, () => ({ path: KOFFI, external: true })); } }],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    }).then(() => pathToFileURL(out));
    bundles.set(entry, p);
  }
  return p;
}

export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` (yielding to the event loop) until it returns non-undefined, or fail after `ms`. */
export async function until<T>(fn: () => T | undefined | null | false, ms = 30_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A xenstore in a Map: writes create parents, rm is recursive, watches fire from a microtask. */
export class FakeStore implements XenbusStore {
  private nodes = new Map<string, string>([['/', '']]);
  private readonly watches = new Set<{ path: string; cb: (p: string) => void }>();
  /** Every write, in order (watches coalesce; this does not). */
  readonly writes: [string, string][] = [];
  read(path: string): string | null { return this.nodes.get(path) ?? null; }
  write(path: string, value: string): void { this.ensure(path); this.nodes.set(path, value); this.writes.push([path, value]); this.fire(path); }
  mkdir(path: string): void { if (!this.nodes.has(path)) { this.ensure(path); this.fire(path); } }
  rm(path: string): void {
    if (!this.nodes.has(path)) return;
    for (const p of [...this.nodes.keys()]) if (p === path || p.startsWith(`${path}/`)) this.nodes.delete(p);
    this.fire(path, true);
  }
  directory(path: string): string[] | null {
    if (!this.nodes.has(path)) return null;
    const pre = path === '/' ? '/' : `${path}/`;
    return [...this.nodes.keys()].filter((p) => p.startsWith(pre) && p !== path && !p.slice(pre.length).includes('/')).map((p) => p.slice(pre.length));
  }
  setPerms(_path: string, _perms: XenbusPerm[]): void {}
  watch(path: string, cb: (path: string) => void): () => void {
    const w = { path, cb };
    this.watches.add(w);
    queueMicrotask(() => { if (this.watches.has(w)) cb(path); });
    return () => { this.watches.delete(w); };
  }
  transaction<T>(fn: (tx: XenbusTx) => T): T {
    const snap = new Map(this.nodes);
    try { return fn(this); } catch (e) { this.nodes = snap; throw e; }
  }
  private ensure(path: string): void {
    if (this.nodes.has(path)) return;
    this.ensure(path.slice(0, path.lastIndexOf('/')) || '/');
    this.nodes.set(path, '');
  }
  private fire(path: string, removal = false): void {
    for (const w of this.watches) {
      if (path === w.path || path.startsWith(`${w.path}/`) || (removal && w.path.startsWith(`${path}/`))) {
        queueMicrotask(() => { if (this.watches.has(w)) w.cb(path); });
      }
    }
  }
}

interface Grant { pfn: number; readonly: boolean; domid: number }

/** Guest memory (a memfd) and the grant table over it. Refs map to page offsets; counts are for leak checks. */
export class FakeGuest implements GrantService {
  readonly memFd: number;
  readonly bytes: Uint8Array;
  private readonly grants = new Map<number, Grant>();
  private readonly handles = new Map<number, number>(); // handle → ref
  private nextRef = 8;
  private nextPfn = 0;
  private readonly freePfns: number[] = [];
  /** Maps ever made, and grants the guest tried to end while still mapped (a backend bug). */
  mapCalls = 0;
  busyEnds = 0;
  /** Delay every map (to catch teardown races). */
  mapDelayMs = 0;

  constructor(readonly domid: number, readonly pages = 4096) {
    this.memFd = libc.memfdCreate(`guest-${domid}`, MFD_CLOEXEC);
    libc.ftruncate(this.memFd, pages * PAGE);
    this.bytes = mapShared(this.memFd, pages * PAGE).bytes;
  }

  get liveMaps(): number { return this.handles.size; }

  allocPage(): number {
    const pfn = this.freePfns.pop() ?? this.nextPfn++;
    if (pfn >= this.pages) throw new Error('mock guest out of memory');
    this.page(pfn).fill(0);
    return pfn;
  }
  freePage(pfn: number): void { this.freePfns.push(pfn); }
  page(pfn: number): Uint8Array { return this.bytes.subarray(pfn * PAGE, (pfn + 1) * PAGE); }

  grant(pfn: number, readonly: boolean, to = 0): number {
    const ref = this.nextRef++;
    this.grants.set(ref, { pfn, readonly, domid: to });
    return ref;
  }
  /** gnttab_end_foreign_access: refused (counted) while the backend still maps it. */
  endAccess(ref: number): boolean {
    for (const r of this.handles.values()) if (r === ref) { this.busyEnds++; return false; }
    return this.grants.delete(ref);
  }

  async map(ops: GrantMapOp[]): Promise<GrantMapResult[]> {
    if (this.mapDelayMs > 0) await sleep(this.mapDelayMs);
    return ops.map((op) => {
      this.mapCalls++;
      const g = this.grants.get(op.ref);
      if (op.domid !== this.domid) return { status: -2, handle: 0, offset: 0 };
      if (g === undefined) return { status: -3, handle: 0, offset: 0 };
      if (g.readonly && !op.readonly) return { status: -8, handle: 0, offset: 0 };
      const handle = handleSeq++;
      this.handles.set(handle, op.ref);
      return { status: 0, handle, offset: g.pfn * PAGE };
    });
  }
  async unmap(handles: number[]): Promise<number[]> {
    return handles.map((h) => (this.handles.delete(h) ? 0 : -4));
  }
}

/** Event channels as eventfd pairs: the guest's side keeps the originals, the backend gets dups. */
export class FakeChannels implements ChannelService {
  private nextPort = 10;
  private nextChannel = 1;
  readonly ports = new Map<number, { kick: number; notify: number }>();
  readonly bound = new Map<number, number>(); // channel → port

  allocUnbound(): number {
    const kick = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    const notify = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    const port = this.nextPort++;
    this.ports.set(port, { kick, notify });
    return port;
  }
  async bind(_domid: number, port: number): Promise<BoundChannel> {
    const p = this.ports.get(port);
    if (p === undefined) throw new Error(`no unbound port ${port}`);
    const channel = this.nextChannel++;
    this.bound.set(channel, port);
    return { channel, kickFd: libc.dup(p.kick), notifyFd: libc.dup(p.notify) };
  }
  async unbind(channel: number): Promise<void> { this.bound.delete(channel); }
  closeAll(): void {
    for (const p of this.ports.values()) { libc.close(p.kick); libc.close(p.notify); }
    this.ports.clear();
  }
}

/** A BackendContext over the fakes, one guest per domid. */
export class MockDom0 {
  readonly store = new FakeStore();
  readonly channels = new FakeChannels();
  readonly guests = new Map<number, FakeGuest>();
  readonly lines: string[] = [];
  readonly ctx: BackendContext;

  constructor() {
    const grants: GrantService = {
      map: async (ops) => {
        const byDom = ops.map((o) => this.guests.get(o.domid));
        if (byDom.some((g) => g === undefined)) return ops.map(() => ({ status: -2, handle: 0, offset: 0 }));
        return byDom[0]!.map(ops);
      },
      unmap: async (handles) => {
        // Handles are per guest in this fake: try each guest in turn.
        const out = handles.map(() => -4);
        for (const g of this.guests.values()) {
          const st = await g.unmap(handles.filter((_, i) => out[i] !== 0));
          let k = 0;
          handles.forEach((_, i) => { if (out[i] !== 0) out[i] = st[k++]!; });
        }
        return out;
      },
    };
    this.ctx = {
      store: this.store, grants, channels: this.channels, log: (l) => this.lines.push(l),
      guestMemoryFd: async (domid) => {
        const g = this.guests.get(domid);
        if (g === undefined) throw new Error(`no domain ${domid}`);
        return libc.dup(g.memFd); // like an fd received by SCM_RIGHTS: the caller's to close
      },
    };
  }

  guest(domid: number, pages = 4096): FakeGuest {
    let g = this.guests.get(domid);
    if (g === undefined) this.guests.set(domid, (g = new FakeGuest(domid, pages)));
    return g;
  }

  get liveMaps(): number {
    return [...this.guests.values()].reduce((n, g) => n + g.liveMaps, 0);
  }

  close(): void {
    this.channels.closeAll();
    for (const g of this.guests.values()) libc.close(g.memFd);
  }
}

// ---- blkfront --------------------------------------------------------------------------------

export type Proto = 'x86_64-abi' | 'x86_32-abi';
/**
 * Written independently of abi/io/blkif.ts and the SDK's codec on purpose (not imported): a layout
 * mistake there cannot cancel out here. Xen's headers check abi/io; this checks the codec.
 */
const LAYOUT = {
  'x86_64-abi': { entry: 112, id: 8, sector: 16, seg: 24, nr: 24, indH: 24, indG: 28 },
  'x86_32-abi': { entry: 108, id: 4, sector: 12, seg: 20, nr: 20, indH: 20, indG: 24 },
} as const;
export const OP = { READ: 0, WRITE: 1, WRITE_BARRIER: 2, FLUSH: 3, DISCARD: 5, INDIRECT: 6 } as const;

export interface Seg { gref: number; first: number; last: number }
export interface RawReq {
  op: number; sector?: number; segs?: Seg[]; nrSegments?: number; indirectOp?: number; indirectGrefs?: number[];
  nrSectors?: number; handle?: number;
}
export interface Rsp { id: bigint; op: number; status: number }

export interface FrontOptions { protocol?: Proto; ringOrder?: number; persistent?: boolean }

export class MockBlkfront {
  readonly fe: string;
  be = '';
  readonly proto: Proto;
  sectors = 0;
  info = 0;
  ringPages: number[] = [];
  ringSize = 0;
  port = 0;
  kicks = 0;
  private reqProdPvt = 0;
  private rspCons = 0;
  private nextId = 1n;
  private readonly pending = new Map<bigint, (r: Rsp) => void>();
  private pumping = false;
  private readonly pool: { pfn: number; ref: number }[] = [];

  constructor(readonly dom0: MockDom0, readonly domid: number, readonly devid: number, readonly opts: FrontOptions = {}) {
    this.fe = `/local/domain/${domid}/device/vbd/${devid}`;
    this.proto = opts.protocol ?? 'x86_64-abi';
  }

  get guest(): FakeGuest { return this.dom0.guest(this.domid); }
  private get store(): FakeStore { return this.dom0.store; }
  backendState(): number { return Number(this.store.read(`${this.be}/state`)); }
  private hdr(): Int32Array { const p = this.guest.page(this.ringPages[0]!); return new Int32Array(p.buffer, p.byteOffset, 4); }

  /** §13 steps 3 and 5: wait for InitWait, publish the ring, go Initialised, wait for Connected. */
  async connect(extraKeys: Record<string, string> = {}): Promise<void> {
    this.be = await until(() => this.store.read(`${this.fe}/backend`), 30_000, 'backend path');
    await until(() => this.backendState() === 2, 30_000, 'InitWait');
    const order = this.opts.ringOrder ?? 0;
    this.ringPages = Array.from({ length: 1 << order }, () => this.guest.allocPage());
    const h = this.hdr();
    h[1] = 1; h[3] = 1; // req_event = rsp_event = 1
    const refs = this.ringPages.map((pfn) => this.guest.grant(pfn, false));
    this.ringSize = 2 ** Math.floor(Math.log2(Math.floor(((1 << order) * PAGE - 64) / LAYOUT[this.proto].entry)));
    this.port = this.dom0.channels.allocUnbound();
    const keys: Record<string, string> = { 'event-channel': String(this.port), protocol: this.proto, ...extraKeys };
    if (order === 0) keys['ring-ref'] = String(refs[0]);
    else { keys['ring-page-order'] = String(order); refs.forEach((r, i) => { keys[`ring-ref${i}`] = String(r); }); }
    if (this.opts.persistent) keys['feature-persistent'] = '1';
    for (const [k, v] of Object.entries(keys)) this.store.write(`${this.fe}/${k}`, v);
    this.store.write(`${this.fe}/state`, '3');
    await until(() => this.backendState() === 4 || this.backendState() >= 5, 30_000, 'Connected');
    if (this.backendState() !== 4) throw new Error(`backend went to state ${this.backendState()}: ${this.dom0.lines.join('; ')}`);
    this.sectors = Number(this.store.read(`${this.be}/sectors`));
    this.info = Number(this.store.read(`${this.be}/info`));
    this.store.write(`${this.fe}/state`, '4');
  }

  /** Orderly close: Closing, wait for the backend to reach Closed, then Closed. */
  async close(): Promise<void> {
    this.store.write(`${this.fe}/state`, '5');
    await until(() => this.backendState() === 6, 30_000, 'backend Closed');
    this.store.write(`${this.fe}/state`, '6');
  }

  encode(r: RawReq, id: bigint): Uint8Array {
    const L = LAYOUT[this.proto];
    const b = new Uint8Array(L.entry);
    const v = new DataView(b.buffer);
    v.setUint8(0, r.op);
    v.setBigUint64(L.id, id, true);
    v.setBigUint64(L.sector, BigInt(r.sector ?? 0), true);
    if (r.op === OP.INDIRECT) {
      v.setUint8(1, r.indirectOp ?? 0); v.setUint16(2, r.nrSegments ?? 0, true); v.setUint16(L.indH, r.handle ?? this.devid & 0xffff, true);
      (r.indirectGrefs ?? []).forEach((g, i) => v.setUint32(L.indG + 4 * i, g, true));
    } else if (r.op === OP.DISCARD) {
      v.setUint16(2, r.handle ?? this.devid & 0xffff, true); v.setBigUint64(L.nr, BigInt(r.nrSectors ?? 0), true);
    } else {
      const segs = r.segs ?? [];
      v.setUint8(1, r.nrSegments ?? segs.length); v.setUint16(2, r.handle ?? this.devid & 0xffff, true);
      segs.forEach((s, i) => { v.setUint32(L.seg + 8 * i, s.gref, true); v.setUint8(L.seg + 8 * i + 4, s.first); v.setUint8(L.seg + 8 * i + 5, s.last); });
    }
    return b;
  }

  /** Put requests on the ring (waiting for room), push with the notify check, resolve with their responses. */
  async submit(reqs: RawReq[]): Promise<Rsp[]> {
    const out: Promise<Rsp>[] = [];
    for (const r of reqs) {
      await until(() => this.reqProdPvt - this.rspCons < this.ringSize, 30_000, 'ring space');
      const id = this.nextId++;
      out.push(new Promise<Rsp>((res) => this.pending.set(id, res)));
      this.writeSlot(this.reqProdPvt++, this.encode(r, id));
      if (this.reqProdPvt - this.rspCons === this.ringSize) this.push();
    }
    this.push();
    this.pump();
    return Promise.all(out);
  }

  /** Publish req_prod as the frontend would, and kick only if the backend asked (req_event). */
  push(): void {
    const h = this.hdr();
    const old = h[0]! >>> 0;
    const now = this.reqProdPvt >>> 0;
    if (old === now) return;
    Atomics.store(h, 0, now | 0);
    const ev = Atomics.load(h, 1) >>> 0;
    if (((now - ev) >>> 0) < ((now - old) >>> 0)) this.kick();
  }

  kick(): void {
    this.kicks++;
    libc.write(this.dom0.channels.ports.get(this.port)!.kick, new BigUint64Array([1n]), 8);
  }

  /** Write raw bytes over a ring slot (for hostile tests). */
  writeSlot(idx: number, bytes: Uint8Array): void {
    let at = 64 + (idx & (this.ringSize - 1)) * LAYOUT[this.proto].entry;
    for (let done = 0; done < bytes.length;) {
      const n = Math.min(bytes.length - done, PAGE - (at % PAGE));
      this.guest.page(this.ringPages[Math.floor(at / PAGE)]!).set(bytes.subarray(done, done + n), at % PAGE);
      done += n; at += n;
    }
  }

  /** Set req_prod to anything (a hostile frontend) and kick. */
  corruptReqProd(value: number): void {
    Atomics.store(this.hdr(), 0, value | 0);
    this.kick();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const step = (): void => {
      const h = this.hdr();
      const prod = Atomics.load(h, 2) >>> 0;
      while (this.rspCons !== prod) {
        let at = 64 + (this.rspCons & (this.ringSize - 1)) * LAYOUT[this.proto].entry;
        const pg = this.guest.page(this.ringPages[Math.floor(at / PAGE)]!);
        at %= PAGE;
        const v = new DataView(pg.buffer, pg.byteOffset + at, Math.min(16, PAGE - at));
        const id = v.getBigUint64(0, true);
        const rsp = { id, op: v.getUint8(8), status: v.getInt16(10, true) };
        this.rspCons = (this.rspCons + 1) >>> 0;
        const res = this.pending.get(id);
        this.pending.delete(id);
        res?.(rsp);
      }
      Atomics.store(h, 3, (this.rspCons + 1) | 0); // rsp_event: wake me at the next response
      if (this.pending.size === 0) { this.pumping = false; return; }
      // A backend that left Connected will not answer: fail what is outstanding (status -99).
      if (this.backendState() !== 4) {
        for (const [id, res] of this.pending) res({ id, op: -1, status: -99 });
        this.pending.clear();
        this.pumping = false;
        return;
      }
      setImmediate(step);
    };
    step();
  }

  // ---- data helpers ----------------------------------------------------------------------

  /** Pages for `n` sectors starting `firstSect` into the first page; granted for `forRead` or write. */
  private buffers(n: number, firstSect: number, forRead: boolean): { segs: Seg[]; pfns: number[]; refs: number[] } {
    const segs: Seg[] = []; const pfns: number[] = []; const refs: number[] = [];
    let left = n; let first = firstSect;
    while (left > 0) {
      const take = Math.min(left, 8 - first);
      let pfn: number; let ref: number;
      if (this.opts.persistent) {
        // Persistent grants: pages granted once, read-write, and reused by later requests.
        const p = this.pool.pop() ?? (() => { const f = this.guest.allocPage(); return { pfn: f, ref: this.guest.grant(f, false) }; })();
        ({ pfn, ref } = p);
      } else {
        pfn = this.guest.allocPage(); ref = this.guest.grant(pfn, !forRead);
      }
      segs.push({ gref: ref, first, last: first + take - 1 }); pfns.push(pfn); refs.push(ref);
      left -= take; first = 0;
    }
    return { segs, pfns, refs };
  }

  private release(b: { pfns: number[]; refs: number[] }): void {
    if (this.opts.persistent) {
      b.pfns.forEach((pfn, i) => this.pool.push({ pfn, ref: b.refs[i]! }));
      return;
    }
    b.refs.forEach((r) => this.guest.endAccess(r));
    b.pfns.forEach((p) => this.guest.freePage(p));
  }

  /** Indirect pages holding `segs` (granted read-only unless persistent). */
  private indirect(segs: Seg[]): { grefs: number[]; pfns: number[]; refs: number[] } {
    const pfns: number[] = []; const refs: number[] = [];
    for (let i = 0; i < segs.length; i += 512) {
      if (this.opts.persistent) {
        // Linux blkfront keeps its indirect pages persistently granted too.
        const p = this.pool.pop() ?? (() => { const f = this.guest.allocPage(); return { pfn: f, ref: this.guest.grant(f, false) }; })();
        pfns.push(p.pfn); refs.push(p.ref);
        writeSegs(this.guest.page(p.pfn), segs.slice(i, i + 512));
        continue;
      }
      const pfn = this.guest.allocPage();
      writeSegs(this.guest.page(pfn), segs.slice(i, i + 512));
      pfns.push(pfn); refs.push(this.guest.grant(pfn, !this.opts.persistent));
    }
    return { grefs: refs, pfns, refs };
  }

  private async rw(op: number, sector: number, n: number, o: { firstSect?: number; indirect?: boolean; data?: Uint8Array }): Promise<{ status: number; data: Uint8Array }> {
    const b = this.buffers(n, o.firstSect ?? 0, op === OP.READ);
    if (o.data) { let at = 0; b.segs.forEach((s, i) => { const len = (s.last - s.first + 1) * 512; this.guest.page(b.pfns[i]!).set(o.data!.subarray(at, at + len), s.first * 512); at += len; }); }
    let ind: { grefs: number[]; pfns: number[]; refs: number[] } | null = null;
    let req: RawReq;
    if (o.indirect || b.segs.length > 11) {
      ind = this.indirect(b.segs);
      req = { op: OP.INDIRECT, indirectOp: op, sector, nrSegments: b.segs.length, indirectGrefs: ind.grefs };
    } else req = { op, sector, segs: b.segs };
    const [rsp] = await this.submit([req]);
    const data = new Uint8Array(n * 512);
    if (op === OP.READ) { let at = 0; b.segs.forEach((s, i) => { const len = (s.last - s.first + 1) * 512; data.set(this.guest.page(b.pfns[i]!).subarray(s.first * 512, s.first * 512 + len), at); at += len; }); }
    this.release(b);
    if (ind) this.release(ind);
    return { status: rsp!.status, data };
  }

  read(sector: number, n: number, o: { firstSect?: number; indirect?: boolean } = {}): Promise<{ status: number; data: Uint8Array }> {
    return this.rw(OP.READ, sector, n, o);
  }

  async write(sector: number, data: Uint8Array, o: { firstSect?: number; indirect?: boolean; op?: number } = {}): Promise<number> {
    return (await this.rw(o.op ?? OP.WRITE, sector, data.length / 512, { ...o, data })).status;
  }

  async op(req: RawReq): Promise<Rsp> {
    return (await this.submit([req]))[0]!;
  }
}

function writeSegs(page: Uint8Array, segs: Seg[]): void {
  const v = new DataView(page.buffer, page.byteOffset, PAGE);
  segs.forEach((s, k) => { v.setUint32(8 * k, s.gref, true); v.setUint8(8 * k + 4, s.first); v.setUint8(8 * k + 5, s.last); });
}
