// data-path.ts: dom0's main-thread side of one device's data-path worker — starts it, performs
// the grant maps it asks for (the privileged socket lives on this thread), remembers every
// handle it holds so teardown can release them whatever state the worker is in, and stops it.
import { MessageChannel, type Worker, type MessagePort } from 'node:worker_threads';
import { spawnBundleWorker } from '../../host/bundle-worker.ts';
import { EventEmitter } from 'eventemitter3';
import { libc, EFD_CLOEXEC } from '../../host/libc.ts';
import type { GrantService } from './context.ts';
import { CTL_SEQ, CTL_STOP, CTL_WORDS, type DataPathInit, type MainToWorker, type WorkerToMain } from './messages.ts';

const ONE = new BigUint64Array([1n]);
/** How long a stopping worker gets before it is terminated (it may sit in a slow host read). */
const STOP_GRACE_MS = 3000;

export interface DataPathOptions<C> {
  readonly workerUrl: URL;
  readonly grants: GrantService;
  readonly log: (line: string) => void;
  readonly init: Omit<DataPathInit<C>, 'ctl' | 'port' | 'wakeFd'>;
}

export interface DataPathEvents {
  /** The worker reported the device unusable, or died: the owner disconnects the device. */
  fault: (reason: string) => void;
}

export class DataPath<C = unknown> extends EventEmitter<DataPathEvents> {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private readonly wakeFd: number;
  /** Grant handles mapped for the worker and not yet unmapped. */
  private readonly live = new Set<number>();
  private inflight: Promise<void> = Promise.resolve();
  private stopping = false;
  private exited: Promise<void>;

  private constructor(private readonly opts: DataPathOptions<C>, ready: (err: Error | null) => void) {
    super();
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.wakeFd = libc.eventfd(0, EFD_CLOEXEC);
    if (this.wakeFd < 0) throw new Error('data path: eventfd failed');
    const init: DataPathInit<C> = { ...opts.init, ctl: this.ctl.buffer as SharedArrayBuffer, port: port2, wakeFd: this.wakeFd };
    this.worker = spawnBundleWorker(opts.workerUrl, { workerData: init, transferList: [port2] });
    this.port.on('message', (m: WorkerToMain) => {
      if (m.t === 'ready') ready(null);
      else this.onMessage(m);
    });
    this.exited = new Promise((res) => this.worker.once('exit', () => res()));
    this.worker.on('error', (err) => {
      ready(err);
      if (!this.stopping) this.emit('fault', `data path crashed: ${err.message}`);
    });
    this.worker.once('exit', (code) => {
      ready(new Error(`data path exited (${code}) before it was ready`));
      if (!this.stopping) this.emit('fault', `data path exited (${code})`);
    });
  }

  /** Start a worker and wait until it has set up its ring and epoll. */
  static async start<C>(opts: DataPathOptions<C>): Promise<DataPath<C>> {
    let settle!: (err: Error | null) => void;
    const ready = new Promise<void>((res, rej) => {
      let done = false;
      settle = (err) => {
        if (done) return;
        done = true;
        if (err === null) res();
        else rej(err);
      };
    });
    const dp = new DataPath<C>(opts, (err) => settle(err));
    try {
      await ready;
    } catch (err) {
      await dp.stop();
      throw err;
    }
    return dp;
  }

  /** Grant handles currently held for this device (for leak checks). */
  get heldGrants(): number {
    return this.live.size;
  }

  /** Stop the worker, then unmap every grant it still held. Idempotent. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      Atomics.store(this.ctl, CTL_STOP, 1);
      this.wake();
      libc.write(this.wakeFd, ONE, 8);
      const grace = new Promise<boolean>((res) => setTimeout(() => res(false), STOP_GRACE_MS).unref());
      if (!(await Promise.race([this.exited.then(() => true), grace]))) {
        this.opts.log(`data path of domain ${this.opts.init.domid} did not stop; terminating it`);
        await this.worker.terminate();
      }
      libc.close(this.wakeFd);
      this.port.close();
    }
    await this.inflight;
    if (this.live.size > 0) {
      const handles = [...this.live];
      this.live.clear();
      await this.opts.grants.unmap(handles).catch((err: Error) => this.opts.log(`grant unmap: ${err.message}`));
    }
  }

  private onMessage(m: Exclude<WorkerToMain, { t: 'ready' }>): void {
    if (m.t === 'log') this.opts.log(m.line);
    else if (m.t === 'fault') {
      if (!this.stopping) this.emit('fault', m.reason);
    } else if (m.t === 'map') this.serve(() => this.map(m.ops));
    else this.serve(() => this.unmap(m.handles));
  }

  /** One grant operation at a time: the worker waits for each answer before asking again. */
  private serve(op: () => Promise<MainToWorker>): void {
    this.inflight = this.inflight.then(async () => {
      const answer = await op();
      if (this.stopping) return;
      this.port.postMessage(answer);
      this.wake();
    });
  }

  private async map(ops: readonly { ref: number; readonly: boolean }[]): Promise<MainToWorker> {
    const domid = this.opts.init.domid;
    try {
      const results = await this.opts.grants.map(ops.map((o) => ({ domid, ref: o.ref, readonly: o.readonly })));
      const ok = results.filter((r) => r.status === 0).map((r) => r.handle);
      // A worker that stopped meanwhile will never release these: do it here.
      if (this.stopping) await this.opts.grants.unmap(ok).catch(() => undefined);
      else for (const h of ok) this.live.add(h);
      return { t: 'mapped', results: results.map((r) => ({ status: r.status, handle: r.handle, offset: r.offset })) };
    } catch (err) {
      this.opts.log(`grant map for domain ${domid}: ${(err as Error).message}`);
      return { t: 'mapped', results: ops.map(() => ({ status: -1, handle: 0, offset: 0 })) };
    }
  }

  private async unmap(handles: readonly number[]): Promise<MainToWorker> {
    const mine = handles.filter((h) => this.live.delete(h));
    try {
      const st = mine.length > 0 ? await this.opts.grants.unmap(mine) : [];
      const byHandle = new Map(mine.map((h, i) => [h, st[i] ?? -1]));
      // GNTST_bad_handle (-4) for a handle this device does not hold.
      return { t: 'unmapped', status: handles.map((h) => byHandle.get(h) ?? -4) };
    } catch (err) {
      this.opts.log(`grant unmap: ${(err as Error).message}`);
      return { t: 'unmapped', status: handles.map(() => -1) };
    }
  }

  private wake(): void {
    Atomics.add(this.ctl, CTL_SEQ, 1);
    Atomics.notify(this.ctl, CTL_SEQ);
  }
}
