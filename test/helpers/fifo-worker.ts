// fifo-worker.ts: a worker thread of the FIFO concurrency test (bundled by the test): it raises a
// list of ports of the shared fake domain, or consumes its queue as the guest would, or scribbles
// on one event word as a hostile guest would.
import { parentPort, workerData } from 'node:worker_threads';
import { fakeHandle, GuestFifo, MASKED, type FakeBuffers } from './fifo-fake.ts';
import { setPending } from '../../hypervisor/events/raise.ts';

interface Job {
  readonly buffers: FakeBuffers;
  readonly role: 'raise' | 'consume' | 'scribble';
  readonly ports: readonly number[];
  /** consume: events to wait for; scribble: the port whose word to flip. */
  readonly count: number;
  readonly cbOffset: number;
  /** Int32 words: [0] stop (scribbler), [1] workers ready, [2] go. */
  readonly stop: SharedArrayBuffer;
}

const job = workerData as Job;
const h = fakeHandle(job.buffers);
const stop = new Int32Array(job.stop);
// Start together: say we are ready, then wait for the main thread's go.
Atomics.add(stop, 1, 1);
while (Atomics.load(stop, 2) === 0) Atomics.wait(stop, 2, 0, 10);
if (job.role === 'raise') {
  for (const p of job.ports) setPending(h, p);
  parentPort!.postMessage({ done: job.ports.length });
} else if (job.role === 'consume') {
  const g = new GuestFifo(h.i32, job.cbOffset);
  const seen: number[] = [];
  const deadline = Date.now() + 20_000;
  while (seen.length < job.count && Date.now() < deadline) {
    // Like a guest between upcalls, rest when the queues are empty (2 cores host 3 threads here).
    if (g.consume((p) => seen.push(p)) === 0) Atomics.wait(stop, 0, 0, 0.05);
  }
  parentPort!.postMessage({ seen });
} else {
  const g = new GuestFifo(h.i32, job.cbOffset);
  const w = g.word(job.count);
  let flips = 0;
  while (Atomics.load(stop, 0) === 0) { Atomics.xor(h.i32, w, MASKED); flips++; }
  parentPort!.postMessage({ flips });
}
