// watch-table.ts: the eventfds dom0's event thread waits on, in a SharedArrayBuffer both threads
// see — the main thread adds and retires entries, the event thread (epoll) follows the changes.
export const MAX_WATCHES = 4096;
const WORDS = 2; // state, fd
const SEQ = 0;
const WAKE_FD = 1;
const STOP = 2;
const HEADER_WORDS = 4;

export const WATCH = { FREE: 0, ACTIVE: 1, CLOSING: 2, CLAIMED: 3 } as const;

export class WatchTable {
  readonly sab: SharedArrayBuffer;
  private readonly w: Int32Array;

  constructor(sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer((HEADER_WORDS + MAX_WATCHES * WORDS) * 4);
    this.w = new Int32Array(this.sab);
  }

  private o(i: number): number { return HEADER_WORDS + i * WORDS; }
  state(i: number): number { return Atomics.load(this.w, this.o(i)); }
  fd(i: number): number { return this.w[this.o(i) + 1]!; }
  setState(i: number, s: number): void { Atomics.store(this.w, this.o(i), s); }

  /** Claim a free entry for `fd` (main thread); -1 when the table is full. */
  add(fd: number): number {
    for (let i = 0; i < MAX_WATCHES; i++) {
      if (Atomics.compareExchange(this.w, this.o(i), WATCH.FREE, WATCH.CLAIMED) === WATCH.FREE) {
        this.w[this.o(i) + 1] = fd;
        this.setState(i, WATCH.ACTIVE);
        this.changed();
        return i;
      }
    }
    return -1;
  }

  /** Retire an entry: the event thread stops watching and closes its fd. */
  retire(i: number): void {
    if (this.state(i) !== WATCH.ACTIVE) return;
    this.setState(i, WATCH.CLOSING);
    this.changed();
  }

  seq(): number { return Atomics.load(this.w, SEQ); }
  get wakeFd(): number { return Atomics.load(this.w, WAKE_FD); }
  setWakeFd(fd: number): void { Atomics.store(this.w, WAKE_FD, fd); }
  get stopped(): boolean { return Atomics.load(this.w, STOP) === 1; }

  stop(): void {
    Atomics.store(this.w, STOP, 1);
    this.changed();
  }

  private changed(): void {
    Atomics.add(this.w, SEQ, 1);
    this.onChange?.();
  }

  /** Set by the owner to wake the event thread after a change. */
  onChange: (() => void) | null = null;
}
