// epoll.ts: the epoll set a blocking worker thread waits in (the timer/relay thread, dom0's event
// thread, backend data paths): struct epoll_event packing for x86_64 and the wait loop's decoding.
import { libc, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLIN, EPOLLONESHOT, EPOLL_CLOEXEC, check } from './libc.ts';

/** Packed struct epoll_event on x86_64: u32 events, u64 data. */
const EVENT_SIZE = 12;

export class EpollSet {
  readonly fd: number;
  private readonly events: Uint8Array;
  private readonly view: DataView;
  private readonly one = new DataView(new ArrayBuffer(EVENT_SIZE));

  constructor(private readonly maxEvents = 64) {
    this.fd = check(libc.epollCreate1(EPOLL_CLOEXEC), 'epoll_create1');
    this.events = new Uint8Array(maxEvents * EVENT_SIZE);
    this.view = new DataView(this.events.buffer);
  }

  /** Watch `fd` for input; `data` comes back from wait(). False if the kernel refused (a bad fd). */
  add(fd: number, data: number): boolean {
    this.one.setUint32(0, EPOLLIN, true);
    this.one.setBigUint64(4, BigInt(data), true);
    return libc.epollCtl(this.fd, EPOLL_CTL_ADD, fd, this.one) === 0;
  }

  /** Watch `fd` for input once: after it fires it stays quiet until `rearmOneShot` (any thread). */
  addOneShot(fd: number, data: number): boolean {
    return epollOneShot(this.fd, EPOLL_CTL_ADD, fd, data);
  }

  remove(fd: number): void {
    libc.epollCtl(this.fd, EPOLL_CTL_DEL, fd, null);
  }

  /** Block up to `timeoutMs`; returns the `data` of each ready fd. */
  wait(timeoutMs: number): number[] {
    const n = libc.epollWait(this.fd, this.events, this.maxEvents, timeoutMs);
    const out: number[] = [];
    for (let k = 0; k < n; k++) out.push(Number(this.view.getBigUint64(k * EVENT_SIZE + 4, true)));
    return out;
  }

  close(): void {
    libc.close(this.fd);
  }
}

/** EPOLLIN|EPOLLONESHOT for `fd` in set `epfd` (ADD or MOD): usable from a thread that only knows the set's fd. */
export function epollOneShot(epfd: number, op: number, fd: number, data: number): boolean {
  const ev = new DataView(new ArrayBuffer(EVENT_SIZE));
  ev.setUint32(0, EPOLLIN | EPOLLONESHOT, true);
  ev.setBigUint64(4, BigInt(data), true);
  return libc.epollCtl(epfd, op, fd, ev) === 0;
}

/** Re-enable a one-shot watch after it fired. */
export function rearmOneShot(epfd: number, fd: number, data: number): boolean {
  return epollOneShot(epfd, EPOLL_CTL_MOD, fd, data);
}
