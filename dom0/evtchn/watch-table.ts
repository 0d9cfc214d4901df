// watch-table.ts: the eventfds dom0's event thread waits on, in a SharedArrayBuffer both threads
// see — the main thread adds and retires entries, the event thread (host/fd-watch.ts) follows.
import { SlotTable, SLOT } from '../../host/slot-table.ts';

export const MAX_WATCHES = 4096;
/** Header words before the slots. */
const SEQ = 0;
const WAKE_FD = 1;
const STOP = 2;
const HEADER_BYTES = 16;
/** Each slot: state, fd. */
const FD = 1;
const WORDS = 2;

export class WatchTable extends SlotTable {
  static readonly FD_FIELD = FD;
  readonly sab: SharedArrayBuffer;
  private readonly header: Int32Array;

  constructor(sab?: SharedArrayBuffer) {
    const buf = sab ?? new SharedArrayBuffer(HEADER_BYTES + SlotTable.bytes(MAX_WATCHES, WORDS));
    super(buf, HEADER_BYTES, MAX_WATCHES, WORDS);
    this.sab = buf;
    this.header = new Int32Array(buf, 0, HEADER_BYTES / 4);
  }

  fd(i: number): number { return this.field(i, FD); }

  /** Claim a free entry for `fd` (main thread); -1 when the table is full. */
  add(fd: number): number {
    const i = this.claim();
    if (i < 0) return -1;
    this.fill(i, [fd]);
    this.changed();
    return i;
  }

  /** Retire an entry: the event thread stops watching and closes its fd. */
  retire(i: number): void {
    if (this.state(i) !== SLOT.ACTIVE) return;
    this.setState(i, SLOT.CLOSING);
    this.changed();
  }

  seq(): number { return Atomics.load(this.header, SEQ); }
  get wakeFd(): number { return Atomics.load(this.header, WAKE_FD); }
  setWakeFd(fd: number): void { Atomics.store(this.header, WAKE_FD, fd); }
  get stopped(): boolean { return Atomics.load(this.header, STOP) === 1; }

  stop(): void {
    Atomics.store(this.header, STOP, 1);
    this.changed();
  }

  private changed(): void {
    Atomics.add(this.header, SEQ, 1);
    this.onChange?.();
  }

  /** Set by the owner to wake the event thread after a change. */
  onChange: (() => void) | null = null;
}
