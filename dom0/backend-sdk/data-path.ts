// data-path.ts: dom0's main-thread side of one device's data-path worker — starts it, performs
// the grant maps it asks for (the privileged socket lives on this thread), remembers every
// handle it holds so teardown can release them whatever state the worker is in, and stops it.
import { MessageChannel } from 'node:worker_threads';
import { EventEmitter } from 'eventemitter3';
import type { GrantService } from './context.ts';
import type { DataPathInit, WorkerToMain } from './messages.ts';
import { WorkerThread, startWhenReady } from './worker-thread.ts';

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
  private readonly thread: WorkerThread;

  private constructor(opts: DataPathOptions<C>, ready: (err: Error | null) => void) {
    super();
    // One channel: this side only ever posts grant answers, all the worker waits for on it.
    const { port1, port2 } = new MessageChannel();
    const domid = opts.init.domid;
    this.thread = new WorkerThread({
      workerUrl: opts.workerUrl, grants: opts.grants, log: opts.log, name: `data path of domain ${domid}`,
      grantPort: port1, ports: [port1], transfer: [port2],
      workerData: (ctl, wakeFd): DataPathInit<C> => ({ ...opts.init, ctl, port: port2, wakeFd }),
      onError: (err) => {
        ready(err);
        this.fault(`data path crashed: ${err.message}`);
      },
      onExit: (code) => {
        ready(new Error(`data path exited (${code}) before it was ready`));
        this.fault(`data path exited (${code})`);
      },
    });
    port1.on('message', (m: WorkerToMain) => {
      if (m.t === 'ready') ready(null);
      else if (m.t === 'log') opts.log(m.line);
      else if (m.t === 'fault') this.fault(m.reason);
      else if (m.t === 'map') this.thread.serveGrants({ t: 'map', domid, ops: m.ops });
      else this.thread.serveGrants(m);
    });
  }

  /** Start a worker and wait until it has set up its ring and epoll. */
  static start<C>(opts: DataPathOptions<C>): Promise<DataPath<C>> {
    return startWhenReady((ready) => new DataPath<C>(opts, ready));
  }

  /** Grant handles currently held for this device (for leak checks). */
  get heldGrants(): number {
    return this.thread.heldGrants;
  }

  /** Stop the worker, then unmap every grant it still held. Idempotent. */
  stop(): Promise<void> {
    return this.thread.stop();
  }

  /** What a stopping worker reports (or its exit) is no fault of the device. */
  private fault(reason: string): void {
    if (!this.thread.stopping) this.emit('fault', reason);
  }
}
