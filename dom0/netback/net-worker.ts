// net-worker.ts: dom0's main-thread side of the net data-path worker — starts it, attaches and
// detaches vifs, performs the grant maps it asks for (the privileged socket lives on this
// thread), remembers every handle it holds so a stop releases them, and reports faults.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { EventEmitter } from 'eventemitter3';
import type { GrantService } from '../backend-sdk/context.ts';
import type { GrantRequest } from '../backend-sdk/messages.ts';
import { WorkerThread, startWhenReady } from '../backend-sdk/worker-thread.ts';
import type { ControlToWorker, NetWorkerInit, NicAttach, VifAttach, WorkerToControl } from './messages.ts';

export interface NetWorkerEvents {
  /** A vif's rings are unusable: disconnect it. */
  fault: (key: string, reason: string) => void;
  /** The worker died: every attached vif is gone with it. */
  crashed: (reason: string) => void;
}

export interface NetWorkerOptions {
  readonly workerUrl: URL;
  readonly grants: GrantService;
  readonly log: (line: string) => void;
  readonly mtu: number;
}

export class NetWorker extends EventEmitter<NetWorkerEvents> {
  private readonly controlPort: MessagePort;
  private readonly thread: WorkerThread;
  private readonly waiting = new Map<number, { res: () => void; rej: (e: Error) => void }>();
  private seq = 0;
  private dead: string | null = null;

  private constructor(opts: NetWorkerOptions, ready: (err: Error | null) => void) {
    super();
    // Grant answers get a port of their own: the worker waits for them synchronously, so nothing
    // else may arrive on it.
    const g = new MessageChannel();
    const c = new MessageChannel();
    this.controlPort = c.port1;
    const died = (why: string): void => {
      ready(new Error(why));
      if (this.dead !== null) return;
      this.dead = why;
      this.failWaiting(why);
      if (!this.thread.stopping) this.emit('crashed', why);
    };
    this.thread = new WorkerThread({
      workerUrl: opts.workerUrl, grants: opts.grants, log: opts.log, name: 'netback worker',
      grantPort: g.port1, ports: [g.port1, c.port1], transfer: [g.port2, c.port2],
      workerData: (ctl, wakeFd): NetWorkerInit => ({ ctl, grantPort: g.port2, controlPort: c.port2, wakeFd, mtu: opts.mtu }),
      onError: (err) => died(`netback worker crashed: ${err.message}`),
      onExit: (code) => died(`netback worker exited (${code})`),
    });
    g.port1.on('message', (m: GrantRequest) => this.thread.serveGrants(m));
    this.controlPort.on('message', (m: WorkerToControl) => {
      if (m.t === 'ready') ready(null);
      else if (m.t === 'done') {
        const w = this.waiting.get(m.seq);
        this.waiting.delete(m.seq);
        if (m.error === null) w?.res();
        else w?.rej(new Error(m.error));
      } else if (m.t === 'fault') this.emit('fault', m.key, m.reason);
      else opts.log(m.line);
    });
  }

  static start(opts: NetWorkerOptions): Promise<NetWorker> {
    return startWhenReady((ready) => new NetWorker(opts, ready));
  }

  get alive(): boolean {
    return this.dead === null && !this.thread.stopping;
  }

  /** Grant handles mapped for the worker and not yet unmapped. */
  get heldGrants(): number {
    return this.thread.heldGrants;
  }

  attach(vif: VifAttach): Promise<void> {
    return this.control((seq) => ({ t: 'attach', seq, vif }));
  }

  /** An emulated NIC's wire as a switch port. */
  attachNic(nic: NicAttach): Promise<void> {
    return this.control((seq) => ({ t: 'attach-nic', seq, nic }));
  }

  /** Resolves once the worker no longer touches the vif's rings, memory or fds. */
  detach(key: string): Promise<void> {
    return this.control((seq) => ({ t: 'detach', seq, key }));
  }

  /** Stop the worker, then unmap every grant it still held. Idempotent. */
  async stop(): Promise<void> {
    await this.thread.stop();
    this.failWaiting('netback worker stopped');
  }

  private control(make: (seq: number) => ControlToWorker): Promise<void> {
    if (this.dead !== null || this.thread.stopping) return Promise.reject(new Error(this.dead ?? 'netback worker stopping'));
    const seq = ++this.seq;
    const p = new Promise<void>((res, rej) => this.waiting.set(seq, { res, rej }));
    this.controlPort.postMessage(make(seq));
    this.thread.kick();
    return p;
  }

  private failWaiting(why: string): void {
    for (const w of this.waiting.values()) w.rej(new Error(why));
    this.waiting.clear();
  }
}
