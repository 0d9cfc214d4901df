// fd-watch.ts: the loop of a thread that blocks in epoll_wait on eventfds listed in a SlotTable
// (the hypervisor's relay thread, dom0's event thread) — it follows the table's changes, drains
// each signalled eventfd, and reaps CLOSING slots by closing their fd.
import { EpollSet } from './epoll.ts';
import { libc } from './libc.ts';
import { SLOT, type SlotTable } from './slot-table.ts';

const WAKE = 0xffffffff;

export interface FdWatchOptions {
  readonly table: SlotTable;
  /** Which field of a slot holds its eventfd. */
  readonly fdField: number;
  /** An eventfd the owner writes after changing the table, to interrupt epoll_wait. */
  readonly wakeFd: number;
  /** A counter the owner bumps with every table change: the table is rescanned only then. */
  readonly seq: () => number;
}

export class FdWatch {
  private readonly epoll = new EpollSet();
  /** Slots this thread has in its epoll set: index → the fd it added (a slot's field may be reused). */
  private readonly watched = new Map<number, number>();
  private readonly drain = new BigUint64Array(1);
  private seen = -1;

  constructor(private readonly o: FdWatchOptions) {
    this.epoll.add(o.wakeFd, WAKE);
  }

  /**
   * Wait up to `timeoutMs` and return the slots whose eventfd fired and that are still ACTIVE.
   * One read drains every signal since the last one: notifications coalesce, as events do.
   */
  wait(timeoutMs: number): number[] {
    this.follow();
    const fired: number[] = [];
    for (const data of timeoutMs > 0 ? this.epoll.wait(timeoutMs) : []) {
      if (data === WAKE) {
        libc.read(this.o.wakeFd, this.drain, 8);
        continue;
      }
      const fd = this.watched.get(data);
      if (fd === undefined) continue;
      libc.read(fd, this.drain, 8);
      if (this.o.table.state(data) === SLOT.ACTIVE) fired.push(data);
    }
    return fired;
  }

  /** Stop watching and close every fd still watched (the thread is exiting). */
  close(): void {
    for (const fd of this.watched.values()) libc.close(fd);
    this.watched.clear();
    this.epoll.close();
  }

  /** Bring the epoll set in line with the table: watch new ACTIVE slots, reap CLOSING ones. */
  private follow(): void {
    const seq = this.o.seq();
    if (seq === this.seen) return;
    this.seen = seq;
    const t = this.o.table;
    for (let i = 0; i < t.slots; i++) {
      const s = t.state(i);
      if (s === SLOT.ACTIVE && !this.watched.has(i)) {
        const fd = t.field(i, this.o.fdField);
        this.watched.set(i, fd);
        this.epoll.add(fd, i);
      } else if (s === SLOT.CLOSING) {
        const fd = this.watched.get(i) ?? t.field(i, this.o.fdField);
        if (this.watched.has(i)) this.epoll.remove(fd);
        libc.close(fd);
        this.watched.delete(i);
        t.setState(i, SLOT.FREE);
      }
    }
  }
}
