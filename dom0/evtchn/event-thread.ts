// event-thread.ts: dom0's event thread — blocks in epoll_wait on the kick eventfds of dom0's
// event channels and tells the main thread which fired (Node's event loop cannot poll an eventfd).
import { parentPort, workerData } from 'node:worker_threads';
import { libc } from '../../hypervisor/kvm/libc.ts';
import { EpollSet } from '../../hypervisor/kvm/epoll.ts';
import { WatchTable, WATCH, MAX_WATCHES } from './watch-table.ts';

const WAKE = 0xffffffff;

const table = new WatchTable((workerData as { sab: SharedArrayBuffer }).sab);
const epoll = new EpollSet();
const drain = new BigUint64Array(1);
const watched = new Set<number>();

function reconcile(): void {
  for (let i = 0; i < MAX_WATCHES; i++) {
    const s = table.state(i);
    if (s === WATCH.ACTIVE && !watched.has(i)) {
      watched.add(i);
      epoll.add(table.fd(i), i);
    } else if (s === WATCH.CLOSING) {
      if (watched.has(i)) epoll.remove(table.fd(i));
      libc.close(table.fd(i));
      watched.delete(i);
      table.setState(i, WATCH.FREE);
    }
  }
}

epoll.add(table.wakeFd, WAKE);
let seen = -1;
while (!table.stopped) {
  const seq = table.seq();
  if (seq !== seen) {
    seen = seq;
    reconcile();
  }
  const fired: number[] = [];
  for (const data of epoll.wait(1000)) {
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
epoll.close();
