// event-thread.ts: dom0's event thread — blocks in epoll_wait on the kick eventfds of dom0's
// event channels and tells the main thread which fired (Node's event loop cannot poll an eventfd).
import { parentPort, workerData } from 'node:worker_threads';
import { libc, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLLIN, EPOLL_CLOEXEC } from '../../hypervisor/kvm/libc.ts';
import { WatchTable, WATCH, MAX_WATCHES } from './watch-table.ts';

const MAX_EVENTS = 64;
const EVENT_SIZE = 12; // packed struct epoll_event on x86_64
const WAKE = 0xffffffff;

const table = new WatchTable((workerData as { sab: SharedArrayBuffer }).sab);
const epfd = libc.epollCreate1(EPOLL_CLOEXEC);
const events = new Uint8Array(MAX_EVENTS * EVENT_SIZE);
const ev = new DataView(events.buffer);
const drain = new BigUint64Array(1);
const watched = new Set<number>();

function epollAdd(fd: number, data: number): void {
  const e = new DataView(new ArrayBuffer(EVENT_SIZE));
  e.setUint32(0, EPOLLIN, true);
  e.setBigUint64(4, BigInt(data), true);
  libc.epollCtl(epfd, EPOLL_CTL_ADD, fd, e);
}

function reconcile(): void {
  for (let i = 0; i < MAX_WATCHES; i++) {
    const s = table.state(i);
    if (s === WATCH.ACTIVE && !watched.has(i)) {
      watched.add(i);
      epollAdd(table.fd(i), i);
    } else if (s === WATCH.CLOSING) {
      if (watched.has(i)) libc.epollCtl(epfd, EPOLL_CTL_DEL, table.fd(i), null);
      libc.close(table.fd(i));
      watched.delete(i);
      table.setState(i, WATCH.FREE);
    }
  }
}

epollAdd(table.wakeFd, WAKE);
let seen = -1;
while (!table.stopped) {
  const seq = table.seq();
  if (seq !== seen) {
    seen = seq;
    reconcile();
  }
  const n = libc.epollWait(epfd, events, MAX_EVENTS, 1000);
  const fired: number[] = [];
  for (let k = 0; k < n; k++) {
    const data = Number(ev.getBigUint64(k * EVENT_SIZE + 4, true));
    if (data === WAKE) {
      libc.read(table.wakeFd, drain, 8);
      continue;
    }
    if (!watched.has(data)) continue;
    libc.read(table.fd(data), drain, 8); // one notification covers every kick since the last read
    if (table.state(data) === WATCH.ACTIVE) fired.push(data);
  }
  if (fired.length > 0) parentPort?.postMessage(fired);
}
for (const i of watched) libc.close(table.fd(i));
libc.close(epfd);
