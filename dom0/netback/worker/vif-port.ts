// vif-port.ts: one connected vif inside the net worker — its TX ring (guest → dom0: parse, check,
// copy each packet out of the granted pages, answer) and its RX ring (dom0 → guest: copy queued
// packets into the buffers the frontend posted, answer), with counters and the rate limit.
import { offsetOf } from '../../../abi/layout.ts';
import { NETIF_RSP, NETRXF, NETTXF, NetifRxRequest, NetifRxResponse, NetifRxRing, NetifTxResponse, NetifTxRing } from '../../../abi/io/netif.ts';
import { libc } from '../../../host/libc.ts';
import { BackRing } from '../../backend-sdk/ring.ts';
import { GuestMemory } from '../../backend-sdk/worker/guest-memory.ts';
import { CNT, type VifAttach } from '../messages.ts';
import { TokenBucket } from '../switch/token-bucket.ts';
import { fillChecksum } from '../csum.ts';
import { parseTxPacket, type TxSeg } from './tx-parse.ts';
import type { NetGrants } from './grants.ts';
import { VifGrants } from './grant-cache.ts';
import type { GrantOp } from '../messages.ts';

const PAGE = 4096;
const ONE = new BigUint64Array([1n]);
/**
 * Packets (and bytes) waiting for RX buffers, per vif: beyond this they are dropped (rxDropped).
 * One round can queue a budget from every sender, so this is a few budgets deep.
 */
export const RX_QUEUE_CAP = 256;
export const RX_QUEUE_BYTES = 2 << 20;
const RSP = NETIF_RSP.values;
const TX_RSP_ID = offsetOf(NetifTxResponse, 'id');
const TX_RSP_STATUS = offsetOf(NetifTxResponse, 'status');
const RX_REQ_ID = offsetOf(NetifRxRequest, 'id');
const RX_REQ_GREF = offsetOf(NetifRxRequest, 'gref');
const RX_RSP_ID = offsetOf(NetifRxResponse, 'id');
const RX_RSP_OFFSET = offsetOf(NetifRxResponse, 'offset');
const RX_RSP_FLAGS = offsetOf(NetifRxResponse, 'flags');
const RX_RSP_STATUS = offsetOf(NetifRxResponse, 'status');

/** The vif cannot go on (hostile ring contents): the owner disconnects it. */
export class VifFault extends Error {
  override name = 'VifFault';
}

/** A frame waiting for RX buffers, with the NETRXF checksum flags it goes up with. */
interface RxPacket {
  readonly data: Uint8Array;
  readonly flags: number;
}

/** A posted RX buffer as the frontend described it (our private copy of the request). */
function rxBuffer(r: Uint8Array): { id: number; gref: number } {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  return { id: v.getUint16(RX_REQ_ID, true), gref: v.getUint32(RX_REQ_GREF, true) };
}

function txResponse(id: number, status: number): Uint8Array {
  const b = new Uint8Array(NetifTxResponse.size);
  const v = new DataView(b.buffer);
  v.setUint16(TX_RSP_ID, id, true);
  v.setInt16(TX_RSP_STATUS, status, true);
  return b;
}

function rxResponse(id: number, offset: number, flags: number, status: number): Uint8Array {
  const b = new Uint8Array(NetifRxResponse.size);
  const v = new DataView(b.buffer);
  v.setUint16(RX_RSP_ID, id, true);
  v.setUint16(RX_RSP_OFFSET, offset, true);
  v.setUint16(RX_RSP_FLAGS, flags, true);
  v.setInt16(RX_RSP_STATUS, status, true);
  return b;
}

export class VifPort {
  readonly key: string;
  readonly domid: number;
  readonly counters: Float64Array;
  /** Set when the ring faulted: the vif is ignored until dom0 detaches it. */
  broken = false;
  /** The frontend kicked (or may have work we have not looked at). */
  txWork = true;
  /** performance.now() at which a rate-limited vif may send again; 0 when not held. */
  heldUntil = 0;
  private readonly mem: GuestMemory;
  private readonly tx: BackRing;
  private readonly rx: BackRing;
  private readonly mac: Uint8Array;
  private readonly bucket: TokenBucket | null;
  private readonly maps: VifGrants;
  /** TX slots taken off the ring (private copies) and not yet answered. */
  private slots: Uint8Array[] = [];
  private readonly rxQueue: RxPacket[] = [];
  private rxQueuedBytes = 0;

  constructor(readonly cfg: VifAttach, grants: NetGrants, private readonly maxFrame: number) {
    this.key = cfg.key;
    this.maps = new VifGrants(grants, cfg.domid, cfg.persistent);
    this.domid = cfg.domid;
    this.counters = new Float64Array(cfg.counters);
    this.mem = new GuestMemory(cfg.memBase, cfg.memSize);
    this.tx = new BackRing([this.mem.page(cfg.txRingOffset)], NetifTxRing.entrySize);
    this.rx = new BackRing([this.mem.page(cfg.rxRingOffset)], NetifRxRing.entrySize);
    this.mac = Uint8Array.from(cfg.mac);
    this.bucket = cfg.rateBytesPerSec === null ? null
      // One interval's worth of credit may go at once (Linux netback's credit_bytes per credit_usec).
      : new TokenBucket(cfg.rateBytesPerSec, Math.max(maxFrame, Math.floor((cfg.rateBytesPerSec * cfg.rateIntervalUs) / 1e6)));
  }

  /** The vif is detached: give back the grants kept for it (persistent mode). */
  close(): void {
    this.maps.releaseAll();
  }

  /** Grants kept mapped across batches (persistent mode). */
  get keptGrants(): number {
    return this.maps.keptCount;
  }

  get rxPending(): number {
    return this.rxQueue.length;
  }

  /**
   * Handle up to `budget` packets from the TX ring; `emit` gets each accepted frame (a private
   * copy) with the NETRXF flags a receiver should see. True if more work is ready right now.
   */
  serviceTx(budget: number, emit: (frame: Uint8Array, rxFlags: number) => void): boolean {
    if (this.broken) return false;
    for (const s of this.tx.take()) this.slots.push(s);
    type Job = { ids: readonly (number | null)[]; segs: readonly TxSeg[]; size: number; flags: number; status: number; frame: Uint8Array | null };
    const jobs: Job[] = [];
    let used = 0;
    let held = false;
    while (jobs.length < budget) {
      const p = parseTxPacket(this.slots, used, this.maxFrame);
      if (p.kind === 'incomplete') break;
      if (p.kind === 'fatal') throw new VifFault(p.reason);
      if (p.error === null && this.bucket !== null && !this.bucket.take(p.size)) {
        // Over the rate: leave it (and everything after it) unanswered until credit returns.
        held = true;
        this.heldUntil = performance.now() + Math.max(1, this.bucket.waitMs(p.size));
        break;
      }
      used += p.ids.length;
      jobs.push({ ...p, status: p.error === null ? RSP.OKAY : RSP.ERROR, frame: null });
    }
    if (jobs.length > 0) this.copyOut(jobs);
    this.slots = this.slots.slice(used);
    for (const j of jobs) {
      for (const id of j.ids) this.tx.respond(txResponse(id ?? 0, id === null ? RSP.NULL : j.status));
    }
    if (this.tx.push()) libc.write(this.cfg.txNotifyFd, ONE, 8);
    for (const j of jobs) if (j.frame !== null) emit(j.frame, j.flags & NETTXF.values.csum_blank || j.flags & NETTXF.values.data_validated ? NETRXF.values.data_validated : 0);
    if (held) return false;
    if (jobs.length === budget) return true;
    // Nothing complete left: ask for a kick at the next request, then look once more.
    return this.tx.finalCheck();
  }

  /** Map every segment of the batch at once, copy each good packet out, unmap, then judge it. */
  private copyOut(jobs: { segs: readonly TxSeg[]; size: number; flags: number; status: number; frame: Uint8Array | null }[]): void {
    const ok = jobs.filter((j) => j.status === RSP.OKAY);
    const { maps, transient } = this.maps.acquire(ok.flatMap((j) => j.segs.map((s) => ({ ref: s.gref, readonly: true }))));
    try {
      let k = 0;
      for (const j of ok) {
        const frame = new Uint8Array(j.size);
        let at = 0;
        for (const s of j.segs) {
          const m = maps[k++]!;
          if (m.status !== 0 || m.offset % PAGE !== 0 || !this.mem.contains(m.offset, PAGE)) {
            j.status = RSP.ERROR;
            continue;
          }
          frame.set(this.mem.page(m.offset).subarray(s.offset, s.offset + s.len), at);
          at += s.len;
        }
        if (j.status === RSP.OKAY) j.frame = frame;
      }
    } finally {
      this.maps.release(transient);
    }
    const c = this.counters;
    for (const j of jobs) {
      if (j.frame === null) {
        c[CNT.txErrors]!++;
        continue;
      }
      // Judged on our private copy: the guest cannot change the header after the check.
      if (!this.mac.every((b, i) => j.frame![6 + i] === b)) {
        j.frame = null;
        j.status = RSP.DROPPED;
        c[CNT.txDropped]!++;
      } else if ((j.flags & NETTXF.values.csum_blank) !== 0 && !fillChecksum(j.frame)) {
        j.frame = null;
        j.status = RSP.ERROR;
        c[CNT.txErrors]!++;
      } else {
        c[CNT.txPackets]!++;
        c[CNT.txBytes]! += j.size;
      }
    }
  }

  /** Queue a frame for this guest (dropped, and counted, if it cannot take it). */
  enqueueRx(data: Uint8Array, flags: number): void {
    if (this.broken || this.rxQueue.length >= RX_QUEUE_CAP || this.rxQueuedBytes + data.length > RX_QUEUE_BYTES
      || (data.length > PAGE && !this.cfg.sg) || data.length > this.maxFrame) {
      this.counters[CNT.rxDropped]!++;
      return;
    }
    this.rxQueue.push({ data, flags });
    this.rxQueuedBytes += data.length;
  }

  /** Copy up to `budget` queued packets into posted buffers. True if more can be done right now. */
  serviceRx(budget: number): boolean {
    if (this.broken || this.rxQueue.length === 0) return false;
    const avail = this.rx.available();
    let need = 0;
    let n = 0;
    for (; n < Math.min(budget, this.rxQueue.length); n++) {
      const slots = Math.max(1, Math.ceil(this.rxQueue[n]!.data.length / PAGE));
      if (need + slots > avail) break;
      need += slots;
    }
    if (n === 0) {
      // No buffers: ask the frontend to kick when it posts some (feature-rx-notify), then recheck.
      return this.rx.finalCheck();
    }
    const reqs = this.rx.take(need);
    if (reqs.length !== need) throw new VifFault('RX ring lost requests');
    const bufs = reqs.map(rxBuffer);
    const write = (b: { gref: number }): GrantOp => ({ ref: b.gref, readonly: false });
    // Looked-ahead requests are only mapped here; they are copied and checked again when taken.
    const { maps, transient } = this.maps.acquire(bufs.map(write), () => this.rx.peek(this.rx.size).map((r) => write(rxBuffer(r))));
    const rsps: Uint8Array[] = [];
    const c = this.counters;
    try {
      let k = 0;
      for (const p of this.rxQueue.splice(0, n)) {
        this.rxQueuedBytes -= p.data.length;
        const slots = Math.max(1, Math.ceil(p.data.length / PAGE));
        const mine = maps.slice(k, k + slots);
        const ids = bufs.slice(k, k + slots).map((b) => b.id);
        k += slots;
        if (mine.some((m) => m.status !== 0 || m.offset % PAGE !== 0 || !this.mem.contains(m.offset, PAGE))) {
          for (const id of ids) rsps.push(rxResponse(id, 0, 0, RSP.ERROR));
          c[CNT.rxDropped]!++;
          continue;
        }
        for (let s = 0; s < slots; s++) {
          const chunk = p.data.subarray(s * PAGE, Math.min(p.data.length, (s + 1) * PAGE));
          this.mem.page(mine[s]!.offset).set(chunk, 0);
          const flags = (s === 0 ? p.flags : 0) | (s < slots - 1 ? NETRXF.values.more_data : 0);
          rsps.push(rxResponse(ids[s]!, 0, flags, chunk.length));
        }
        c[CNT.rxPackets]!++;
        c[CNT.rxBytes]! += p.data.length;
      }
    } finally {
      this.maps.release(transient);
    }
    for (const r of rsps) this.rx.respond(r);
    if (this.rx.push()) libc.write(this.cfg.rxNotifyFd, ONE, 8);
    if (this.rxQueue.length === 0) return false;
    return this.rx.available() > 0 || this.rx.finalCheck();
  }
}
