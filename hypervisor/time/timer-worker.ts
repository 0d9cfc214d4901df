// timer-worker.ts: the hypervisor's timer thread — sleeps until the earliest vCPU deadline and
// raises VIRQ_TIMER, without waking any vCPU thread in user space.
import { parentPort, workerData } from 'node:worker_threads';
import { HypervisorShared } from '../domain/global-state.ts';
import { Domains } from '../events/domain-handle.ts';
import { runExpired } from './timers.ts';

const IDLE_WAIT_MS = 1000;
const hv = new HypervisorShared((workerData as { hvSab: SharedArrayBuffer }).hvSab);
const domains = new Domains(hv, -1, new Uint8Array(0));

while (!hv.timersStopped) {
  const seq = hv.timerSeq();
  const now = process.hrtime.bigint();
  const next = runExpired(hv, domains, now);
  const waitMs = next === 0n ? IDLE_WAIT_MS : Math.max(0, Number(next - process.hrtime.bigint()) / 1e6);
  if (waitMs > 0) hv.waitTimers(seq, Math.min(waitMs, IDLE_WAIT_MS));
}
parentPort?.postMessage('stopped');
