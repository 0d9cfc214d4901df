// mock-netfront.ts: the guest side of the netif protocol without a guest — a netfront that
// negotiates over the fake xenstore of mock-frontend.ts, puts packets on its TX ring (single- or
// multi-slot, with extra-info segments, or raw hostile slots), posts RX buffers and reassembles
// what the backend delivers. Offsets are written out here on purpose (not imported from abi/io).
import { libc } from '../../host/libc.ts';
import { type MockDom0, type FakeGuest, type FakeStore, until } from './mock-frontend.ts';

const PAGE = 4096;
const HDR = 64;
const TX_ENTRY = 12;
const RX_ENTRY = 8;
const RING = 256; // both rings: (4096 - 64) / 12 → 336 → 256; / 8 → 504 → 256
export const TXF = { csum_blank: 1, data_validated: 2, more_data: 4, extra_info: 8 } as const;
export const RXF = { data_validated: 1, csum_blank: 2, more_data: 4, extra_info: 8 } as const;
export const RSP = { DROPPED: -2, ERROR: -1, OKAY: 0, NULL: 1 } as const;

/** A TX slot as the frontend writes it. */
export interface RawTx { gref: number; offset: number; flags: number; id: number; size: number }
export interface TxRsp { id: number; status: number }
export interface RxPacket { data: Uint8Array; flags: number; statuses: number[] }

export function mac(s: string): Uint8Array {
  return Uint8Array.from(s.split(':').map((h) => parseInt(h, 16)));
}

/** An Ethernet frame: dst, src, ethertype 0x88b5 (local experimental), payload. */
export function frame(dst: string, src: string, payload: Uint8Array | string, ethertype = 0x88b5): Uint8Array {
  const p = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const f = new Uint8Array(14 + p.length);
  f.set(mac(dst), 0); f.set(mac(src), 6);
  f[12] = ethertype >> 8; f[13] = ethertype & 0xff;
  f.set(p, 14);
  return f;
}

export interface NetfrontOptions {
  /** Separate TX and RX event channels. */
  split?: boolean;
  /** Write feature-sg = 1 (default true). */
  sg?: boolean;
  /** Keys to leave out (e.g. request-rx-copy) or override. */
  keys?: Record<string, string | null>;
}

export class MockNetfront {
  readonly fe: string;
  be = '';
  txPage = 0;
  rxPage = 0;
  txPorts: number[] = [];
  private txProdPvt = 0;
  private txCons = 0;
  private rxProdPvt = 0;
  private rxCons = 0;
  private nextId = 0;
  /** id → pages and grants to release when its response comes. */
  private readonly txBufs = new Map<number, { pfn: number; ref: number }[]>();
  /** RX slot id → posted buffer. */
  private readonly rxBufs = new Map<number, { pfn: number; ref: number }>();
  private partial: { chunks: Uint8Array[]; flags: number; statuses: number[] } | null = null;
  readonly received: RxPacket[] = [];
  readonly txDone: TxRsp[] = [];

  constructor(readonly dom0: MockDom0, readonly domid: number, readonly devid: number, readonly opts: NetfrontOptions = {}) {
    this.fe = `/local/domain/${domid}/device/vif/${devid}`;
  }

  get guest(): FakeGuest { return this.dom0.guest(this.domid); }
  private get store(): FakeStore { return this.dom0.store; }
  backendState(): number { return Number(this.store.read(`${this.be}/state`)); }
  private hdr(pfn: number): Int32Array { const p = this.guest.page(pfn); return new Int32Array(p.buffer, p.byteOffset, 4); }

  /** Negotiate: wait for InitWait, publish rings and channels, go Initialised, wait for Connected. */
  async connect(): Promise<void> {
    await this.publish();
    await until(() => this.backendState() === 4 || this.backendState() >= 5, 30_000, 'Connected');
    if (this.backendState() !== 4) throw new Error(`backend went to state ${this.backendState()}: ${this.dom0.lines.join('; ')}`);
    this.store.write(`${this.fe}/state`, '4');
  }

  /** Publish the frontend keys and go Initialised, without waiting (for refusal tests). */
  async publish(): Promise<void> {
    this.be = await until(() => this.store.read(`${this.fe}/backend`), 30_000, 'backend path');
    await until(() => this.backendState() === 2, 30_000, 'InitWait');
    this.txPage = this.guest.allocPage();
    this.rxPage = this.guest.allocPage();
    for (const pfn of [this.txPage, this.rxPage]) { const h = this.hdr(pfn); h[1] = 1; h[3] = 1; }
    const keys: Record<string, string | null> = {
      'tx-ring-ref': String(this.guest.grant(this.txPage, false)),
      'rx-ring-ref': String(this.guest.grant(this.rxPage, false)),
      'request-rx-copy': '1', 'feature-rx-notify': '1', 'feature-sg': this.opts.sg === false ? '0' : '1',
    };
    if (this.opts.split) {
      this.txPorts = [this.dom0.channels.allocUnbound(), this.dom0.channels.allocUnbound()];
      keys['event-channel-tx'] = String(this.txPorts[0]);
      keys['event-channel-rx'] = String(this.txPorts[1]);
    } else {
      this.txPorts = [this.dom0.channels.allocUnbound()];
      keys['event-channel'] = String(this.txPorts[0]);
    }
    Object.assign(keys, this.opts.keys ?? {});
    for (const [k, v] of Object.entries(keys)) if (v !== null) this.store.write(`${this.fe}/${k}`, v);
    this.store.write(`${this.fe}/state`, '3');
  }

  async close(): Promise<void> {
    this.store.write(`${this.fe}/state`, '5');
    await until(() => this.backendState() === 6, 30_000, 'backend Closed');
    this.store.write(`${this.fe}/state`, '6');
  }

  private kick(rx: boolean): void {
    const port = this.txPorts[rx && this.txPorts.length > 1 ? 1 : 0]!;
    libc.write(this.dom0.channels.ports.get(port)!.kick, new BigUint64Array([1n]), 8);
  }

  /** Notify fd readings (how often the backend signalled each channel). */
  notified(rx = false): number {
    const port = this.txPorts[rx && this.txPorts.length > 1 ? 1 : 0]!;
    const b = new BigUint64Array(1);
    return libc.read(this.dom0.channels.ports.get(port)!.notify, b, 8) === 8 ? Number(b[0]) : 0;
  }

  // ---- TX --------------------------------------------------------------------------------------

  writeTxSlot(r: RawTx): void {
    const at = HDR + (this.txProdPvt & (RING - 1)) * TX_ENTRY;
    const v = new DataView(this.guest.page(this.txPage).buffer, this.guest.page(this.txPage).byteOffset + at, TX_ENTRY);
    v.setUint32(0, r.gref, true); v.setUint16(4, r.offset, true); v.setUint16(6, r.flags, true);
    v.setUint16(8, r.id, true); v.setUint16(10, r.size, true);
    this.txProdPvt++;
  }

  /** An extra-info slot (type, flags, then 6 bytes of union). */
  writeExtraSlot(type: number, more = false, body: number[] = []): void {
    const at = HDR + (this.txProdPvt & (RING - 1)) * TX_ENTRY;
    const p = this.guest.page(this.txPage);
    p.fill(0, at, at + TX_ENTRY);
    p[at] = type; p[at + 1] = more ? 1 : 0;
    p.set(body.slice(0, 6), at + 2);
    this.txProdPvt++;
  }

  /** TX slots free for new requests (the ring holds 256 between our producer and consumer). */
  get txRoom(): number { return RING - (this.txProdPvt - this.txCons); }

  newId(): number { return this.nextId++ & 0xffff; }

  /** Grant `data` in pieces of `pieces` (byte lengths; default: one page each) at `offset` in fresh pages. */
  grantData(data: Uint8Array, pieces?: number[], offset = 0): { gref: number; offset: number; len: number; pfn: number }[] {
    const lens = pieces ?? (() => { const l: number[] = []; for (let a = 0; a < data.length; a += PAGE - offset) l.push(Math.min(PAGE - offset, data.length - a)); return l; })();
    const out: { gref: number; offset: number; len: number; pfn: number }[] = [];
    let at = 0;
    for (const len of lens) {
      const pfn = this.guest.allocPage();
      this.guest.page(pfn).set(data.subarray(at, at + len), offset);
      out.push({ gref: this.guest.grant(pfn, true), offset, len, pfn });
      at += len;
    }
    return out;
  }

  /** Queue one packet (not yet published); returns the first slot's id. */
  queuePacket(data: Uint8Array, o: { flags?: number; pieces?: number[]; offset?: number; extras?: number[] } = {}): number {
    const segs = this.grantData(data, o.pieces, o.offset ?? 0);
    const ids: number[] = [];
    segs.forEach((s, k) => {
      const id = this.newId();
      ids.push(id);
      let flags = k === 0 ? (o.flags ?? 0) : 0;
      if (k < segs.length - 1) flags |= TXF.more_data;
      if (k === 0 && o.extras && o.extras.length > 0) flags |= TXF.extra_info;
      this.writeTxSlot({ gref: s.gref, offset: s.offset, flags, id, size: k === 0 ? data.length : s.len });
      this.txBufs.set(id, [{ pfn: s.pfn, ref: s.gref }]);
      if (k === 0) (o.extras ?? []).forEach((type, x) => this.writeExtraSlot(type, x < o.extras!.length - 1));
    });
    return ids[0]!;
  }

  /** Publish req_prod and kick if the backend asked (req_event). */
  pushTx(): void { this.push(this.txPage, this.txProdPvt, false); }

  /** Set req_prod to anything (hostile) and kick. */
  corruptTxProd(value: number): void {
    Atomics.store(this.hdr(this.txPage), 0, value | 0);
    this.kick(false);
  }

  private push(pfn: number, prod: number, rx: boolean): void {
    const h = this.hdr(pfn);
    const old = h[0]! >>> 0;
    const now = prod >>> 0;
    if (old === now) return;
    Atomics.store(h, 0, now | 0);
    const ev = Atomics.load(h, 1) >>> 0;
    if (((now - ev) >>> 0) < ((now - old) >>> 0)) this.kick(rx);
  }

  /** Read new TX responses; releases the grants they covered. */
  pollTx(): TxRsp[] {
    const h = this.hdr(this.txPage);
    const prod = Atomics.load(h, 2) >>> 0;
    const p = this.guest.page(this.txPage);
    const out: TxRsp[] = [];
    while (this.txCons !== prod) {
      const v = new DataView(p.buffer, p.byteOffset + HDR + (this.txCons & (RING - 1)) * TX_ENTRY, 4);
      const r = { id: v.getUint16(0, true), status: v.getInt16(2, true) };
      this.txCons = (this.txCons + 1) >>> 0;
      out.push(r);
      if (r.status !== RSP.NULL) {
        for (const b of this.txBufs.get(r.id) ?? []) { if (this.guest.endAccess(b.ref)) this.guest.freePage(b.pfn); }
        this.txBufs.delete(r.id);
      }
    }
    Atomics.store(h, 3, (this.txCons + 1) | 0);
    this.txDone.push(...out);
    return out;
  }

  /** Send packets (published together) and wait for every slot's response. */
  async send(frames: Uint8Array[], o: { flags?: number; pieces?: number[] } = {}): Promise<TxRsp[]> {
    const before = this.txDone.length;
    const want = this.txProdPvt - this.txCons;
    for (const f of frames) this.queuePacket(f, o);
    this.pushTx();
    const slots = this.txProdPvt - this.txCons;
    await until(() => { this.pollTx(); return this.txCons === this.txProdPvt; }, 30_000, `TX responses (${slots - want} slots)`);
    return this.txDone.slice(before);
  }

  // ---- RX --------------------------------------------------------------------------------------

  /** Post `n` RX buffers (fresh pages granted read-write) and push with the notify check. */
  postRx(n: number): void {
    for (let i = 0; i < n; i++) {
      const pfn = this.guest.allocPage();
      const ref = this.guest.grant(pfn, false);
      const id = this.rxProdPvt & (RING - 1);
      this.rxBufs.set(id, { pfn, ref });
      const at = HDR + id * RX_ENTRY;
      const v = new DataView(this.guest.page(this.rxPage).buffer, this.guest.page(this.rxPage).byteOffset + at, RX_ENTRY);
      v.setUint16(0, id, true); v.setUint16(2, 0, true); v.setUint32(4, ref, true);
      this.rxProdPvt++;
    }
    this.push(this.rxPage, this.rxProdPvt, true);
  }

  /** Buffers posted and not yet answered. */
  get rxPosted(): number { return this.rxProdPvt - this.rxCons; }

  /** Read RX responses and reassemble packets (appended to `received`). */
  pollRx(): RxPacket[] {
    const h = this.hdr(this.rxPage);
    const prod = Atomics.load(h, 2) >>> 0;
    const p = this.guest.page(this.rxPage);
    const out: RxPacket[] = [];
    while (this.rxCons !== prod) {
      const v = new DataView(p.buffer, p.byteOffset + HDR + (this.rxCons & (RING - 1)) * RX_ENTRY, RX_ENTRY);
      const id = v.getUint16(0, true); const off = v.getUint16(2, true); const flags = v.getUint16(4, true); const status = v.getInt16(6, true);
      this.rxCons = (this.rxCons + 1) >>> 0;
      const buf = this.rxBufs.get(id);
      this.rxBufs.delete(id);
      const chunk = buf !== undefined && status > 0 ? Uint8Array.from(this.guest.page(buf.pfn).subarray(off, off + status)) : new Uint8Array(0);
      if (buf !== undefined) { this.guest.endAccess(buf.ref); this.guest.freePage(buf.pfn); }
      const cur = this.partial ?? { chunks: [], flags, statuses: [] };
      cur.chunks.push(chunk); cur.statuses.push(status);
      if (flags & RXF.more_data) { this.partial = cur; continue; }
      this.partial = null;
      const len = cur.chunks.reduce((n, c) => n + c.length, 0);
      const data = new Uint8Array(len);
      let at = 0;
      for (const c of cur.chunks) { data.set(c, at); at += c.length; }
      out.push({ data, flags: cur.flags, statuses: cur.statuses });
    }
    Atomics.store(h, 3, (this.rxCons + 1) | 0);
    this.received.push(...out);
    return out;
  }

  /** Wait until `n` packets have been received in total. */
  async waitRx(n: number, what = `${n} packets`): Promise<RxPacket[]> {
    await until(() => { this.pollRx(); return this.received.length >= n; }, 30_000, what);
    return this.received;
  }
}
