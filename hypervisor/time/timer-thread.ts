// timer-thread.ts: the hypervisor's timer and relay thread — sleeps in epoll_wait until the
// earliest vCPU deadline or an event-channel eventfd fires, then raises VIRQ_TIMER or relays the
// send (events/relay-loop.ts), without waking any vCPU thread in user space.
import { parentPort, workerData } from 'node:worker_threads';
import { HypervisorShared } from '../state/global-state.ts';
import { Domains } from '../state/domain-handle.ts';
import { RelayLoop } from '../events/relay-loop.ts';
import { runExpired } from './timers.ts';
import { batchWakeups, nameThread } from '../../host/libc.ts';

/** Even with no deadline the thread looks at the stop flag this often. */
const IDLE_WAIT_MS = 1000;

nameThread('hv-timer-relay');
// Sends and backend notifications wake this thread: it must not preempt the vCPU that sent.
batchWakeups();
const hv = new HypervisorShared((workerData as { hvSab: SharedArrayBuffer }).hvSab);
const domains = new Domains(hv, -1, new Uint8Array(0));
const relays = new RelayLoop(hv, domains);

while (!hv.timersStopped) {
  const next = runExpired(hv, domains, process.hrtime.bigint());
  const waitMs = next === 0n ? IDLE_WAIT_MS : Math.min(IDLE_WAIT_MS, Math.ceil(Number(next - process.hrtime.bigint()) / 1e6));
  relays.waitAndRelay(waitMs);
}
relays.close();
parentPort?.postMessage('stopped');
