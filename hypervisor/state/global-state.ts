// global-state.ts: the hypervisor-wide SharedArrayBuffer — every domain's shared slot and event
// table, and the domid → slot map — handed to every vCPU worker at start.
import { DomainShared, DOMAIN_SHARED_BYTES, MAX_VCPUS } from './shared-state.ts';
import { PortTable, PORT_TABLE_BYTES } from './port-table.ts';
import { RelayTable, RELAY_TABLE_BYTES } from './relay-table.ts';
import { Dom0ChannelTable, DOM0_CHANNEL_TABLE_BYTES } from './dom0-channel-table.ts';
import { libc } from '../../host/libc.ts';

export const MAX_DOMAINS = 64;
const DOMID_LIMIT = 0x8000;
const SLOT_BYTES = Math.ceil((DOMAIN_SHARED_BYTES + PORT_TABLE_BYTES) / 8) * 8;
const CONTROL_BYTES = 64;
const MAP_BYTES = CONTROL_BYTES + DOMID_LIMIT * 2;
/**
 * Control words: [0] timer generation (bumped whenever any vCPU timer or relay changes), [1] stop,
 * [2] the eventfd that wakes the timer/relay thread out of epoll_wait.
 */
const TIMER_SEQ = 0;
const TIMER_STOP = 1;
const WAKE_FD = 2;
/** Bumped whenever a relay is added or starts closing, so the relay thread rescans only then. */
const RELAY_SEQ = 3;
const ONE = new BigUint64Array([1n]);

export class HypervisorShared {
  readonly sab: SharedArrayBuffer;
  /** domid → slot + 1 (0 = no such domain). */
  private readonly slotOf: Int16Array;
  private readonly domains: Array<DomainShared | undefined> = [];
  private readonly ports: Array<PortTable | undefined> = [];

  constructor(sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(MAP_BYTES + MAX_DOMAINS * SLOT_BYTES + RELAY_TABLE_BYTES + DOM0_CHANNEL_TABLE_BYTES);
    this.relays = new RelayTable(this.sab, MAP_BYTES + MAX_DOMAINS * SLOT_BYTES);
    this.dom0 = new Dom0ChannelTable(this.sab, MAP_BYTES + MAX_DOMAINS * SLOT_BYTES + RELAY_TABLE_BYTES);
    this.slotOf = new Int16Array(this.sab, CONTROL_BYTES, DOMID_LIMIT);
    this.control = new Int32Array(this.sab, 0, CONTROL_BYTES / 4);
  }

  private readonly control: Int32Array;
  /** ioeventfd relays of the event-channel fast path. */
  readonly relays: RelayTable;
  /** Event channels whose far end is a dom0 backend. */
  readonly dom0: Dom0ChannelTable;

  /** Install the eventfd the timer/relay thread sleeps on (main thread, once). */
  setWakeFd(fd: number): void {
    Atomics.store(this.control, WAKE_FD, fd);
  }

  get wakeFd(): number {
    return Atomics.load(this.control, WAKE_FD);
  }

  /** Tell the timer thread that some deadline changed. */
  timersChanged(): void {
    Atomics.add(this.control, TIMER_SEQ, 1);
    Atomics.notify(this.control, TIMER_SEQ);
    const fd = Atomics.load(this.control, WAKE_FD);
    if (fd > 0) libc.write(fd, ONE, 8);
  }

  /** Ask the timer thread to exit. */
  stopTimers(): void {
    Atomics.store(this.control, TIMER_STOP, 1);
    this.timersChanged();
  }

  get timersStopped(): boolean {
    return Atomics.load(this.control, TIMER_STOP) === 1;
  }

  /** Tell the relay thread its epoll set is out of date, and wake it. */
  relaysChanged(): void {
    Atomics.add(this.control, RELAY_SEQ, 1);
    this.timersChanged();
  }

  relaySeq(): number {
    return Atomics.load(this.control, RELAY_SEQ);
  }

  timerSeq(): number {
    return Atomics.load(this.control, TIMER_SEQ);
  }

  /** Sleep until timersChanged() or `ms` pass (timer thread). */
  waitTimers(seq: number, ms: number): void {
    Atomics.wait(this.control, TIMER_SEQ, seq, ms);
  }

  /** Slots currently holding a domain (timer thread scan). */
  liveSlots(): number[] {
    const out: number[] = [];
    for (let slot = 0; slot < MAX_DOMAINS; slot++) if (this.domain(slot).alive) out.push(slot);
    return out;
  }

  private slotOffset(slot: number): number {
    return MAP_BYTES + slot * SLOT_BYTES;
  }

  /** Slot of a live-or-dying domain id, or -1. */
  slot(domid: number): number {
    if (!Number.isInteger(domid) || domid < 0 || domid >= DOMID_LIMIT) return -1;
    return Atomics.load(this.slotOf, domid) - 1;
  }

  domain(slot: number): DomainShared {
    let d = this.domains[slot];
    if (d === undefined) {
      d = new DomainShared(this.sab, this.slotOffset(slot));
      this.domains[slot] = d;
    }
    return d;
  }

  portTable(slot: number): PortTable {
    let p = this.ports[slot];
    if (p === undefined) {
      p = new PortTable(this.sab, this.slotOffset(slot) + DOMAIN_SHARED_BYTES);
      this.ports[slot] = p;
    }
    return p;
  }

  /** Claim a free slot for a new domain (main thread only). */
  claim(domid: number): number {
    const used = new Set<number>();
    for (let id = 0; id < DOMID_LIMIT; id++) {
      const s = this.slotOf[id]!;
      if (s > 0) used.add(s - 1);
    }
    for (let slot = 0; slot < MAX_DOMAINS; slot++) {
      if (used.has(slot)) continue;
      this.domain(slot).reset(domid);
      this.portTable(slot).reset();
      Atomics.store(this.slotOf, domid, slot + 1);
      return slot;
    }
    throw new Error(`at most ${MAX_DOMAINS} domains at once`);
  }

  /** Forget a dead domain's id (main thread, after DomainShared.retire()). */
  free(domid: number): void {
    Atomics.store(this.slotOf, domid, 0);
  }
}

export { MAX_VCPUS };
