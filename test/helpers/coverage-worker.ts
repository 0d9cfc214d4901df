// coverage-worker.ts: runs one coverage-guided fuzz target (coverage-targets.ts) in a worker thread,
// with the input being run kept in shared memory so that the parent can name it if the run hangs.
import { parentPort, workerData } from 'node:worker_threads';
import { fuzz } from './coverage-fuzz.ts';
import { TARGETS } from './coverage-targets.ts';
import { planted } from './coverage-planted.ts';

/** What the parent sends: the target, the budget, and where the current input goes. */
export interface CoverageJob {
  readonly target: string;
  readonly seed: number;
  readonly iterations: number;
  readonly deadline: number;
  readonly stopOnCrash: boolean;
  /** [0]: the current input's length (Int32), then its bytes. */
  readonly current: SharedArrayBuffer;
}

const job = workerData as CoverageJob;
const target = [...TARGETS, planted].find((t) => t.name === job.target);
if (!target) throw new Error(`no coverage target ${job.target}`);
const len = new Int32Array(job.current, 0, 1);
const bytes = new Uint8Array(job.current, 4);
const stats = fuzz(target, job.seed, job.iterations, job.deadline, job.stopOnCrash, (input) => {
  const n = Math.min(input.length, bytes.length);
  bytes.set(input.subarray(0, n));
  Atomics.store(len, 0, n);
}, (s) => parentPort!.postMessage({ progress: s }));
parentPort!.postMessage({ done: stats });
