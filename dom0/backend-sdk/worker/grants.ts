// grants.ts: grant maps from inside a data-path worker — batched requests to dom0's main thread
// (which owns the privileged socket), answered while the worker waits on its control words, and
// a persistent-grant cache keyed by grant reference for frontends that reuse their grants.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CTL_SEQ, CTL_STOP, type GrantAnswer, type GrantRequest, type MapRefOp, type WorkerToMain } from '../messages.ts';

/** The device is being stopped: abandon the current ring pass. */
export class DataPathStopped extends Error {
  override name = 'DataPathStopped';
}

export interface GrantMapping {
  /** GNTST code; anything but 0 means the reference is unusable. */
  readonly status: number;
  /** Byte offset of the granted frame in guest memory. */
  readonly offset: number;
}

const WAIT_SLICE_MS = 100;

export class GrantClient {
  /** gref → mapping kept for the life of the connection (feature-persistent). */
  private readonly cache = new Map<number, { handle: number; offset: number }>();
  private transient: number[] = [];

  constructor(
    private readonly port: MessagePort,
    private readonly ctl: Int32Array,
    readonly persistent: boolean,
    /** Linux blkback keeps up to 1056 persistent grants per ring; beyond that, map per request. */
    readonly maxPersistent = 1056,
  ) {}

  get persistentCount(): number {
    return this.cache.size;
  }

  /**
   * Map a batch in one round trip; results in input order. A reference asked for twice in a batch
   * is mapped once. With persistent grants, maps are read-write (the frontend grants them so, and
   * reuses them for reads and writes) and kept until the connection ends.
   */
  acquire(ops: readonly MapRefOp[]): GrantMapping[] {
    const out = new Array<GrantMapping>(ops.length);
    const want = new Map<string, { op: MapRefOp; at: number[] }>();
    ops.forEach((op, i) => {
      const hit = this.persistent ? this.cache.get(op.ref) : undefined;
      if (hit !== undefined) {
        out[i] = { status: 0, offset: hit.offset };
        return;
      }
      const ask = this.persistent ? { ref: op.ref, readonly: false } : op;
      const key = `${ask.ref}:${ask.readonly ? 'r' : 'w'}`;
      const w = want.get(key);
      if (w) w.at.push(i);
      else want.set(key, { op: ask, at: [i] });
    });
    if (want.size === 0) return out;
    const asks = [...want.values()];
    const reply = grantCall(this.port, this.ctl, { t: 'map', ops: asks.map((a) => a.op) });
    if (reply.t !== 'mapped' || reply.results.length !== asks.length) throw new Error('grant map: bad reply');
    asks.forEach((a, k) => {
      const r = reply.results[k]!;
      if (r.status === 0) {
        if (this.persistent && this.cache.size < this.maxPersistent) this.cache.set(a.op.ref, { handle: r.handle, offset: r.offset });
        else this.transient.push(r.handle);
      }
      for (const i of a.at) out[i] = { status: r.status, offset: r.offset };
    });
    return out;
  }

  /** Unmap every mapping acquired since the last release that is not kept persistently. */
  releaseTransient(): void {
    if (this.transient.length === 0) return;
    const handles = this.transient;
    this.transient = [];
    grantCall(this.port, this.ctl, { t: 'unmap', handles });
  }
}

/**
 * Send a grant request to dom0's main thread and wait, blocking this worker only, for its answer
 * (the main thread bumps CTL_SEQ after posting it). Throws DataPathStopped once a stop begins.
 */
export function grantCall(port: MessagePort, ctl: Int32Array, msg: WorkerToMain | GrantRequest): GrantAnswer {
  port.postMessage(msg);
  for (;;) {
    const seen = Atomics.load(ctl, CTL_SEQ);
    const got = receiveMessageOnPort(port);
    if (got !== undefined) return got.message as GrantAnswer;
    if (Atomics.load(ctl, CTL_STOP) !== 0) throw new DataPathStopped('stopping');
    Atomics.wait(ctl, CTL_SEQ, seen, WAIT_SLICE_MS);
  }
}
