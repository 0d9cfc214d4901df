// worker-thread.ts: what dom0's main thread does alike for every data-path worker (a device's,
// netback's) — start it with control words and a wake eventfd, wait for its "ready", serve its
// grant requests, and stop it: a grace period, then terminate, then release the grants it held.
import type { Worker, MessagePort } from 'node:worker_threads';
import { spawnBundleWorker } from '../../host/bundle-worker.ts';
import { libc, EFD_CLOEXEC } from '../../host/libc.ts';
import type { GrantService } from './context.ts';
import { CTL_SEQ, CTL_STOP, CTL_WORDS, type GrantRequest } from './messages.ts';
import { WorkerGrants } from './worker-grants.ts';

const ONE = new BigUint64Array([1n]);
/** How long a stopping worker gets before it is terminated (it may sit in a slow host read). */
const STOP_GRACE_MS = 3000;

export interface WorkerThreadOptions {
  readonly workerUrl: URL;
  readonly grants: GrantService;
  readonly log: (line: string) => void;
  /** The worker in log and error lines: "data path of domain 3", "netback worker". */
  readonly name: string;
  /** The main-thread end of the channel the worker asks for grants on: answers go there. */
  readonly grantPort: MessagePort;
  /** Every main-thread end of the worker's channels (grantPort too): closed once it is gone. */
  readonly ports: readonly MessagePort[];
  /** The worker's workerData around the control words and wake eventfd it is given. */
  readonly workerData: (ctl: SharedArrayBuffer, wakeFd: number) => unknown;
  /** The worker's ends of the channels, transferred with workerData. */
  readonly transfer: readonly MessagePort[];
  /** The worker threw (`stopping` tells a crash from an error while being stopped). */
  readonly onError: (err: Error) => void;
  /** The worker exited, whether a stop asked it to or not. */
  readonly onExit: (code: number) => void;
}

export class WorkerThread {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  private readonly wakeFd: number;
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private readonly grants: WorkerGrants;
  private stopRequested = false;

  constructor(private readonly opts: WorkerThreadOptions) {
    this.wakeFd = libc.eventfd(0, EFD_CLOEXEC);
    if (this.wakeFd < 0) throw new Error(`${opts.name}: eventfd failed`);
    this.grants = new WorkerGrants(opts.grants, (line) => opts.log(`${opts.name}: ${line}`), (a) => {
      opts.grantPort.postMessage(a);
      this.wakeWaiter();
    });
    try {
      const workerData = opts.workerData(this.ctl.buffer as SharedArrayBuffer, this.wakeFd);
      this.worker = spawnBundleWorker(opts.workerUrl, { workerData, transferList: [...opts.transfer] });
    } catch (err) {
      // No worker, so no stop() will ever close it.
      libc.close(this.wakeFd);
      throw err;
    }
    // Before onExit: whoever awaits the exit sees the owner's exit handling done.
    this.exited = new Promise((res) => this.worker.once('exit', () => res()));
    this.worker.on('error', opts.onError);
    this.worker.once('exit', opts.onExit);
  }

  /** A stop has begun: the owner ignores what the worker still reports. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Grant handles mapped for the worker and not yet unmapped. */
  get heldGrants(): number {
    return this.grants.held;
  }

  /** Queue one of the worker's grant requests; it waits for the answer. */
  serveGrants(req: GrantRequest): void {
    this.grants.serve(req);
  }

  /** Wake the worker out of epoll_wait (a control message was posted, or it must stop). */
  kick(): void {
    libc.write(this.wakeFd, ONE, 8);
  }

  /** Stop the worker, close its channels, then unmap every grant it still held. Idempotent. */
  async stop(): Promise<void> {
    if (!this.stopRequested) {
      this.stopRequested = true;
      this.grants.stop();
      Atomics.store(this.ctl, CTL_STOP, 1);
      this.wakeWaiter();
      this.kick();
      const grace = new Promise<boolean>((res) => setTimeout(() => res(false), STOP_GRACE_MS).unref());
      if (!(await Promise.race([this.exited.then(() => true), grace]))) {
        this.opts.log(`${this.opts.name} did not stop; terminating it`);
        await this.worker.terminate();
      }
      libc.close(this.wakeFd);
      for (const p of this.opts.ports) p.close();
    }
    await this.grants.release();
  }

  /** Wake a worker blocked on its control words (waiting for a grant answer, or to see STOP). */
  private wakeWaiter(): void {
    Atomics.add(this.ctl, CTL_SEQ, 1);
    Atomics.notify(this.ctl, CTL_SEQ);
  }
}

/**
 * Construct a worker's owner and wait for its worker's "ready". The owner reports through `ready`
 * (null: ready; an error: it failed first); on failure it is stopped and the error thrown.
 */
export async function startWhenReady<T extends { stop(): Promise<void> }>(make: (ready: (err: Error | null) => void) => T): Promise<T> {
  let settle!: (err: Error | null) => void;
  // A promise settles once: reports after the first (an exit after a failure) change nothing.
  const ready = new Promise<void>((res, rej) => {
    settle = (err) => (err === null ? res() : rej(err));
  });
  const owner = make(settle);
  try {
    await ready;
  } catch (err) {
    await owner.stop();
    throw err;
  }
  return owner;
}
