// event-thread.ts: dom0's event thread — blocks in epoll_wait on the kick eventfds of dom0's
// event channels and tells the main thread which fired (Node's event loop cannot poll an eventfd).
import { parentPort, workerData } from 'node:worker_threads';
import { FdWatch } from '../../host/fd-watch.ts';
import { WatchTable } from './watch-table.ts';
import { batchWakeups, nameThread } from '../../host/libc.ts';

/** Even when nothing fires, the thread looks at the stop flag this often. */
const IDLE_WAIT_MS = 1000;

nameThread('dom0-events');
// Guest kicks on xenstore and console rings wake this thread: no preempting the vCPU that kicked.
batchWakeups();
const table = new WatchTable((workerData as { sab: SharedArrayBuffer }).sab);
const watch = new FdWatch({ table, fdField: WatchTable.FD_FIELD, wakeFd: table.wakeFd, seq: () => table.seq() });

while (!table.stopped) {
  const fired = watch.wait(IDLE_WAIT_MS);
  if (fired.length > 0) parentPort?.postMessage(fired);
}
watch.close();
