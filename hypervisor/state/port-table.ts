// port-table.ts: one domain's event-channel ports in shared memory (the hypervisor's bookkeeping;
// the pending/mask bits the guest sees live in its shared_info page or its FIFO event array).
import { EVTCHNSTAT, EVTCHN_FIFO, NR_VIRQS } from '../../abi/event-channel.ts';
import { MAX_VCPUS } from './shared-state.ts';

/**
 * The largest port space: the FIFO ABI's 2^17. The 2-level ABI uses the first 4096 (64-bit guests)
 * or 1024 (32-bit). Untouched entries cost no memory: the buffer's pages are only faulted in as
 * ports are used, and reset() clears no further than the highest port ever set.
 */
export const MAX_PORTS = EVTCHN_FIFO.values.NR_CHANNELS;
const WORDS = 4; // state, notify vCPU, remote domid, remote port (or VIRQ number)
const HIGH_WATER_BYTES = 8;
export const PORT_TABLE_BYTES = MAX_PORTS * WORDS * 4 + MAX_PORTS * 4 + MAX_VCPUS * NR_VIRQS * 4 + HIGH_WATER_BYTES;

export type PortState = (typeof EVTCHNSTAT.values)[keyof typeof EVTCHNSTAT.values];

export interface Port {
  state: number;
  vcpu: number;
  remoteDom: number;
  /** Remote port for interdomain channels; the VIRQ for virq ports. */
  remotePort: number;
}

/**
 * A port's FIFO word (Xen's evtchn->priority, ->fifo_lastq and ->pending): the priority new events
 * queue at, the queue the port was last linked on (so a move can drop a stale tail), and whether it
 * became pending while its event-array page was missing. Updated only by compare-and-swap: the
 * vCPU threads, the relay and the timer thread all link ports.
 */
const FW = {
  PRIO_MASK: 0xf,
  LAST_PRIO_SHIFT: 4,
  LAST_VCPU_SHIFT: 8,
  LAST_VCPU_MASK: 0x3f,
  SAVED_PENDING: 1 << 16,
} as const;

export interface FifoPortState {
  readonly priority: number;
  readonly lastVcpu: number;
  readonly lastPriority: number;
  readonly savedPending: boolean;
}

/**
 * Ports indexed by number. Structural changes happen under the owning domain's event lock
 * (DomainShared.lockEvents); single words are read without it, as Xen's send path does.
 */
export class PortTable {
  private readonly w: Int32Array;
  private readonly fifo: Int32Array;
  /** (vcpu * NR_VIRQS + virq) → bound port, 0 = none. */
  private readonly virqs: Int32Array;
  /** [0]: one past the highest port ever set since the last reset. */
  private readonly hw: Int32Array;

  constructor(sab: SharedArrayBuffer, offset: number) {
    let at = offset;
    this.w = new Int32Array(sab, at, MAX_PORTS * WORDS);
    at += MAX_PORTS * WORDS * 4;
    this.fifo = new Int32Array(sab, at, MAX_PORTS);
    at += MAX_PORTS * 4;
    this.virqs = new Int32Array(sab, at, MAX_VCPUS * NR_VIRQS);
    at += MAX_VCPUS * NR_VIRQS * 4;
    this.hw = new Int32Array(sab, at, HIGH_WATER_BYTES / 4);
  }

  reset(): void {
    const top = this.highWater;
    this.w.fill(0, 0, top * WORDS);
    this.fifo.fill(0, 0, top);
    this.virqs.fill(0);
    Atomics.store(this.hw, 0, 0);
  }

  /** Ports at or above this were never bound: loops over "every port" stop here. */
  get highWater(): number {
    return Atomics.load(this.hw, 0);
  }

  get(port: number): Port {
    const o = port * WORDS;
    return {
      state: Atomics.load(this.w, o), vcpu: this.w[o + 1]!, remoteDom: this.w[o + 2]!, remotePort: this.w[o + 3]!,
    };
  }

  state(port: number): number {
    return Atomics.load(this.w, port * WORDS);
  }

  set(port: number, p: Port): void {
    const o = port * WORDS;
    const closed = EVTCHNSTAT.values.closed;
    // A new binding starts at the default priority with nothing saved (Xen's evtchn_port_init).
    if (Atomics.load(this.w, o) === closed && p.state !== closed) this.initFifo(port);
    this.w[o + 1] = p.vcpu;
    this.w[o + 2] = p.remoteDom;
    this.w[o + 3] = p.remotePort;
    Atomics.store(this.w, o, p.state);
    for (let top = this.highWater; port >= top; top = this.highWater) {
      if (Atomics.compareExchange(this.hw, 0, top, port + 1) === top) break;
    }
  }

  setVcpu(port: number, vcpu: number): void {
    this.w[port * WORDS + 1] = vcpu;
  }

  /**
   * Lowest free port in [1, limit), or -1 (port 0 is reserved and never handed out). `busy` skips
   * free ports that cannot be reused yet (FIFO: still linked on a guest queue).
   */
  findFree(limit: number, busy?: (port: number) => boolean): number {
    const end = Math.min(limit, MAX_PORTS);
    for (let p = 1; p < end; p++) {
      if (this.state(p) === EVTCHNSTAT.values.closed && (busy === undefined || !busy(p))) return p;
    }
    return -1;
  }

  virqPort(vcpu: number, virq: number): number {
    return Atomics.load(this.virqs, vcpu * NR_VIRQS + virq);
  }

  setVirqPort(vcpu: number, virq: number, port: number): void {
    Atomics.store(this.virqs, vcpu * NR_VIRQS + virq, port);
  }

  // --- FIFO per-port state ---

  fifoState(port: number): FifoPortState {
    const f = Atomics.load(this.fifo, port);
    return {
      priority: f & FW.PRIO_MASK,
      lastPriority: (f >> FW.LAST_PRIO_SHIFT) & FW.PRIO_MASK,
      lastVcpu: (f >> FW.LAST_VCPU_SHIFT) & FW.LAST_VCPU_MASK,
      savedPending: (f & FW.SAVED_PENDING) !== 0,
    };
  }

  setPriority(port: number, priority: number): void {
    this.updateFifo(port, (f) => (f & ~FW.PRIO_MASK) | (priority & FW.PRIO_MASK));
  }

  /** Record the queue (vCPU, priority) the port was just linked on. */
  setLastQueue(port: number, vcpu: number, priority: number): void {
    const mask = (FW.PRIO_MASK << FW.LAST_PRIO_SHIFT) | (FW.LAST_VCPU_MASK << FW.LAST_VCPU_SHIFT);
    const v = ((priority & FW.PRIO_MASK) << FW.LAST_PRIO_SHIFT) | ((vcpu & FW.LAST_VCPU_MASK) << FW.LAST_VCPU_SHIFT);
    this.updateFifo(port, (f) => (f & ~mask) | v);
  }

  setSavedPending(port: number, on: boolean): void {
    this.updateFifo(port, (f) => (on ? f | FW.SAVED_PENDING : f & ~FW.SAVED_PENDING));
  }

  /** Clear the saved-pending flag; true if it was set. */
  takeSavedPending(port: number): boolean {
    return (Atomics.and(this.fifo, port, ~FW.SAVED_PENDING) & FW.SAVED_PENDING) !== 0;
  }

  private initFifo(port: number): void {
    this.updateFifo(port, (f) => (f & ~(FW.PRIO_MASK | FW.SAVED_PENDING)) | EVTCHN_FIFO.values.PRIORITY_DEFAULT);
  }

  private updateFifo(port: number, fn: (f: number) => number): void {
    // Every writer is the hypervisor (never the guest), so this loop ends as soon as no other
    // thread changes the same port's word in between: a handful of tries at most.
    for (;;) {
      const old = Atomics.load(this.fifo, port);
      if (Atomics.compareExchange(this.fifo, port, old, fn(old)) === old) return;
    }
  }
}
