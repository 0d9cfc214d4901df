// net-worker.ts: dom0's main-thread side of the net data-path worker — starts it, attaches and
// detaches vifs, performs the grant maps it asks for (the privileged socket lives on this
// thread), remembers every handle it holds so a stop releases them, and reports faults.
import { MessageChannel, type Worker, type MessagePort } from 'node:worker_threads';
import { spawnBundleWorker } from '../../host/bundle-worker.ts';
import { EventEmitter } from 'eventemitter3';
import { libc, EFD_CLOEXEC } from '../../host/libc.ts';
import type { GrantService } from '../backend-sdk/context.ts';
import { CTL_SEQ, CTL_STOP, CTL_WORDS } from '../backend-sdk/messages.ts';
import type { ControlToWorker, GrantAnswer, GrantRequest, NetWorkerInit, NicAttach, VifAttach, WorkerToControl } from './messages.ts';

const ONE = new BigUint64Array([1n]);
const STOP_GRACE_MS = 3000;

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
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  private readonly grantPort: MessagePort;
  private readonly controlPort: MessagePort;
  private readonly worker: Worker;
  private readonly wakeFd: number;
  private readonly live = new Set<number>();
  private readonly waiting = new Map<number, { res: () => void; rej: (e: Error) => void }>();
  private seq = 0;
  private inflight: Promise<void> = Promise.resolve();
  private stopping = false;
  private dead: string | null = null;
  private readonly exited: Promise<void>;

  private constructor(private readonly opts: NetWorkerOptions, ready: (err: Error | null) => void) {
    super();
    const g = new MessageChannel();
    const c = new MessageChannel();
    this.grantPort = g.port1;
    this.controlPort = c.port1;
    this.wakeFd = libc.eventfd(0, EFD_CLOEXEC);
    if (this.wakeFd < 0) throw new Error('netback: eventfd failed');
    const init: NetWorkerInit = { ctl: this.ctl.buffer as SharedArrayBuffer, grantPort: g.port2, controlPort: c.port2, wakeFd: this.wakeFd, mtu: opts.mtu };
    this.worker = spawnBundleWorker(opts.workerUrl, { workerData: init, transferList: [g.port2, c.port2] });
    this.grantPort.on('message', (m: GrantRequest) => this.serve(m));
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
    this.exited = new Promise((res) => this.worker.once('exit', () => res()));
    const died = (why: string): void => {
      ready(new Error(why));
      if (this.dead !== null) return;
      this.dead = why;
      for (const w of this.waiting.values()) w.rej(new Error(why));
      this.waiting.clear();
      if (!this.stopping) this.emit('crashed', why);
    };
    this.worker.on('error', (err) => died(`netback worker crashed: ${err.message}`));
    this.worker.once('exit', (code) => died(`netback worker exited (${code})`));
  }

  static async start(opts: NetWorkerOptions): Promise<NetWorker> {
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
    const w = new NetWorker(opts, (err) => settle(err));
    try {
      await ready;
    } catch (err) {
      await w.stop();
      throw err;
    }
    return w;
  }

  get alive(): boolean {
    return this.dead === null && !this.stopping;
  }

  /** Grant handles mapped for the worker and not yet unmapped. */
  get heldGrants(): number {
    return this.live.size;
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

  private control(make: (seq: number) => ControlToWorker): Promise<void> {
    if (this.dead !== null || this.stopping) return Promise.reject(new Error(this.dead ?? 'netback worker stopping'));
    const seq = ++this.seq;
    const p = new Promise<void>((res, rej) => this.waiting.set(seq, { res, rej }));
    this.controlPort.postMessage(make(seq));
    libc.write(this.wakeFd, ONE, 8);
    return p;
  }

  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      Atomics.store(this.ctl, CTL_STOP, 1);
      this.wakeGrants();
      libc.write(this.wakeFd, ONE, 8);
      const grace = new Promise<boolean>((res) => setTimeout(() => res(false), STOP_GRACE_MS).unref());
      if (!(await Promise.race([this.exited.then(() => true), grace]))) {
        this.opts.log('netback worker did not stop; terminating it');
        await this.worker.terminate();
      }
      libc.close(this.wakeFd);
      this.grantPort.close();
      this.controlPort.close();
      for (const w of this.waiting.values()) w.rej(new Error('netback worker stopped'));
      this.waiting.clear();
    }
    await this.inflight;
    if (this.live.size > 0) {
      const handles = [...this.live];
      this.live.clear();
      await this.opts.grants.unmap(handles).catch((err: Error) => this.opts.log(`netback grant unmap: ${err.message}`));
    }
  }

  /** One grant operation at a time: the worker waits for each answer before asking again. */
  private serve(m: GrantRequest): void {
    this.inflight = this.inflight.then(async () => {
      const answer = m.t === 'map' ? await this.map(m.domid, m.ops) : await this.unmap(m.handles);
      if (this.stopping) return;
      this.grantPort.postMessage(answer);
      this.wakeGrants();
    });
  }

  private async map(domid: number, ops: readonly { ref: number; readonly: boolean }[]): Promise<GrantAnswer> {
    try {
      const results = await this.opts.grants.map(ops.map((o) => ({ domid, ref: o.ref, readonly: o.readonly })));
      const ok = results.filter((r) => r.status === 0).map((r) => r.handle);
      if (this.stopping) await this.opts.grants.unmap(ok).catch(() => undefined);
      else for (const h of ok) this.live.add(h);
      return { t: 'mapped', results: results.map((r) => ({ status: r.status, handle: r.handle, offset: r.offset })) };
    } catch (err) {
      this.opts.log(`netback grant map for domain ${domid}: ${(err as Error).message}`);
      return { t: 'mapped', results: ops.map(() => ({ status: -1, handle: 0, offset: 0 })) };
    }
  }

  private async unmap(handles: readonly number[]): Promise<GrantAnswer> {
    const mine = handles.filter((h) => this.live.delete(h));
    if (mine.length > 0) await this.opts.grants.unmap(mine).catch((err: Error) => this.opts.log(`netback grant unmap: ${err.message}`));
    return { t: 'unmapped' };
  }

  private wakeGrants(): void {
    Atomics.add(this.ctl, CTL_SEQ, 1);
    Atomics.notify(this.ctl, CTL_SEQ);
  }
}
