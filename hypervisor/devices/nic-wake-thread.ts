// nic-wake-thread.ts: the emulated NICs' RX watcher — blocks in epoll_wait on a domain's NIC wires and tells the main thread to kick vCPU 0.
import { parentPort, workerData } from 'node:worker_threads';
import { libc, errno, EINTR, nameThread } from '../../host/libc.ts';
import { NIC_WAKE_STOP } from './nic-wake.ts';

const { epfd, armed, name } = workerData as { epfd: number; armed: SharedArrayBuffer; name: string };
nameThread(name);
const flags = new Int32Array(armed);
/** Packed struct epoll_event on x86_64: u32 events, u64 data. */
const EVENT_SIZE = 12;
const MAX = 4;
const events = new Uint8Array(MAX * EVENT_SIZE);
const view = new DataView(events.buffer);

loop: for (;;) {
  const n = libc.epollWait(epfd, events, MAX, -1);
  if (n < 0) {
    if (errno() === EINTR) continue;
    break;
  }
  for (let k = 0; k < n; k++) {
    const data = Number(view.getBigUint64(k * EVENT_SIZE + 4, true));
    if (data === NIC_WAKE_STOP) break loop;
    if (data >= flags.length) continue;
    // One-shot: the watch is now disarmed until vCPU 0 has emptied the socket and re-arms it.
    Atomics.store(flags, data, 0);
    parentPort?.postMessage(data);
  }
}
