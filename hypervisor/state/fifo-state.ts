// fifo-state.ts: one domain's FIFO event-channel bookkeeping in the shared buffer — which ABI is
// in force, where the event-array pages and per-vCPU control blocks are in the domain's memfd,
// and each queue's tail and lock (Xen's struct evtchn_fifo_domain / evtchn_fifo_vcpu).
//
// The event words and control blocks themselves are guest memory: any thread with a DomainHandle
// reaches them by these memfd offsets. All-zero is "2-level, nothing set up", so a fresh slot needs
// no initialisation.
import { EVTCHN_FIFO } from '../../abi/event-channel.ts';

const F = EVTCHN_FIFO.values;
export const FIFO_QUEUES = F.MAX_QUEUES;
/** Event words per 4 KiB array page, and the pages the 17-bit link space needs. */
export const WORDS_PER_PAGE = 1024;
export const MAX_ARRAY_PAGES = F.NR_CHANNELS / WORDS_PER_PAGE;
/** vCPUs with a control block: shared-state.ts checks this equals its MAX_VCPUS. */
export const FIFO_VCPUS = 32;

const I = {
  /** Bumped on every switch of ABI: odd = FIFO. Senders re-check it to catch a switch mid-raise. */
  generation: 0,
  /** Ports covered by array pages (a multiple of WORDS_PER_PAGE), published after the page. */
  numEvtchns: 1,
  /** MAX_ARRAY_PAGES words: memfd page index + 1 (0 = none). */
  pages: 2,
  /** FIFO_VCPUS words: control block memfd offset / 8 + 1 (0 = none). */
  control: 2 + MAX_ARRAY_PAGES,
  /** FIFO_VCPUS × FIFO_QUEUES words: the port last linked on each queue (0 = empty). */
  tail: 2 + MAX_ARRAY_PAGES + FIFO_VCPUS,
  /** FIFO_VCPUS × FIFO_QUEUES words: queue locks (0 free, 1 held). */
  lock: 2 + MAX_ARRAY_PAGES + FIFO_VCPUS + FIFO_VCPUS * FIFO_QUEUES,
  end: 2 + MAX_ARRAY_PAGES + FIFO_VCPUS + 2 * FIFO_VCPUS * FIFO_QUEUES,
} as const;

export const FIFO_STATE_BYTES = I.end * 4;

/** A queue's index: the vCPU's block of FIFO_QUEUES, then the priority. */
export function queueIndex(vcpu: number, priority: number): number {
  return vcpu * FIFO_QUEUES + priority;
}

export class FifoState {
  private readonly w: Int32Array;

  constructor(sab: SharedArrayBuffer, offset: number) {
    this.w = new Int32Array(sab, offset, I.end);
  }

  get generation(): number { return Atomics.load(this.w, I.generation); }
  get active(): boolean { return (this.generation & 1) === 1; }

  /** Switch ABI (under the event lock): FIFO after the first init_control, 2-level on reset. */
  setActive(fifo: boolean): void {
    if (this.active !== fifo) Atomics.add(this.w, I.generation, 1);
  }

  /** Forget every page, control block and tail (the queue locks are left alone: always released). */
  clear(): void {
    Atomics.store(this.w, I.numEvtchns, 0);
    for (let i = I.pages; i < I.lock; i++) Atomics.store(this.w, i, 0);
  }

  get numEvtchns(): number { return Atomics.load(this.w, I.numEvtchns); }

  /**
   * Add the next event-array page (memfd byte offset, page-aligned, under the event lock). The
   * page is stored before the count grows, so a sender that sees the new count finds the page.
   */
  addArrayPage(memOffset: number): void {
    const n = this.numEvtchns;
    Atomics.store(this.w, I.pages + n / WORDS_PER_PAGE, memOffset / 4096 + 1);
    Atomics.store(this.w, I.numEvtchns, n + WORDS_PER_PAGE);
  }

  /** Index (in 32-bit words of the memfd) of `port`'s event word, or -1 without one. */
  wordIndex(port: number): number {
    if (!(port >= 0 && port < this.numEvtchns)) return -1;
    const page = Atomics.load(this.w, I.pages + Math.floor(port / WORDS_PER_PAGE));
    return page === 0 ? -1 : (page - 1) * WORDS_PER_PAGE + (port % WORDS_PER_PAGE);
  }

  /** Memfd byte offset of `vcpu`'s control block, or -1. */
  controlOffset(vcpu: number): number {
    if (!(vcpu >= 0 && vcpu < FIFO_VCPUS)) return -1;
    const c = Atomics.load(this.w, I.control + vcpu);
    return c === 0 ? -1 : (c - 1) * 8;
  }

  setControlOffset(vcpu: number, memOffset: number): void {
    Atomics.store(this.w, I.control + vcpu, memOffset / 8 + 1);
  }

  tail(q: number): number { return Atomics.load(this.w, I.tail + q); }
  setTail(q: number, port: number): void { Atomics.store(this.w, I.tail + q, port); }

  /**
   * Take queue `q`'s lock. Holders only touch a few words of guest memory and never wait for
   * anything but a second queue lock taken in index order, so the wait is short.
   */
  lockQueue(q: number): void {
    while (Atomics.compareExchange(this.w, I.lock + q, 0, 1) !== 0) Atomics.wait(this.w, I.lock + q, 1, 1);
  }

  unlockQueue(q: number): void {
    Atomics.store(this.w, I.lock + q, 0);
    Atomics.notify(this.w, I.lock + q, 1);
  }
}
