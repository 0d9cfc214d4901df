// runtime.ts: the loop every data-path worker runs — block in epoll_wait on the kick eventfd,
// drain the ring in batches through the backend's handler, push responses, notify the guest
// only when it asked (req_event/rsp_event), and stop when dom0's main thread says so.
import { parentPort, workerData } from 'node:worker_threads';
import { libc, nameThread } from '../../../host/libc.ts';
import { EpollSet } from '../../../host/epoll.ts';
import { BackRing, RingOverflowError } from '../ring.ts';
import { CTL_STOP, type DataPathInit, type WorkerToMain } from '../messages.ts';
import { GuestMemory } from './guest-memory.ts';
import { GrantClient, DataPathStopped } from './grants.ts';

/** What the backend's code sees inside its worker. */
export interface DataPathEnv<C> {
  readonly domid: number;
  readonly config: C;
  /** The frontend's `protocol` key, already checked to be x86_64-abi or x86_32-abi. */
  readonly protocol: string;
  readonly persistent: boolean;
  readonly memory: GuestMemory;
  readonly grants: GrantClient;
  log(line: string): void;
}

/** The backend's request processing, one batch of ring entries at a time. */
export interface RingHandler {
  /** Bytes per ring entry (the request/response union) under the negotiated protocol. */
  readonly entrySize: number;
  /**
   * Handle requests (private copies, in ring order) and return one response per request, in the
   * same order. Work is complete when this returns (a write is on the host before its answer).
   */
  process(requests: Uint8Array[]): Uint8Array[];
  /** Release the handler's own resources when the worker stops. */
  close?(): void;
}

const KICK = 0;
const WAKE = 1;
const ONE = new BigUint64Array([1n]);

/** Run a data path in this worker thread with the handler `setup` builds. Call once, at top level. */
export function runDataPath<C>(setup: (env: DataPathEnv<C>) => RingHandler): void {
  const init = workerData as DataPathInit<C>;
  nameThread(init.threadName ?? `dp-d${init.domid}`);
  // Not SCHED_BATCH (unlike the relay thread): a kick should get its answer before the guest
  // gives up and polls. Preempting the kicking vCPU costs it a reschedule and KVM's vCPU reload,
  // but a guest at queue depth 1 has nothing to do but wait, and its poll path costs more
  // (measured at QD 1 here: ~1 050 µs of vCPU CPU per 4 KiB read this way, ~1 300 batched).
  const ctl = new Int32Array(init.ctl);
  const port = init.port;
  const send = (m: WorkerToMain): void => port.postMessage(m);
  const memory = new GuestMemory(init.memBase, init.memSize);
  const grants = new GrantClient(port, ctl, init.persistent);
  const env: DataPathEnv<C> = {
    domid: init.domid, config: init.config, protocol: init.protocol, persistent: init.persistent,
    memory, grants, log: (line) => send({ t: 'log', line }),
  };
  // A setup that throws ends the worker before 'ready': dom0 fails the connect.
  const handler = setup(env);
  const ring = new BackRing(init.ringOffsets.map((o) => memory.page(o)), handler.entrySize);

  const epoll = new EpollSet(2);
  for (const [fd, tag] of [[init.kickFd, KICK], [init.wakeFd, WAKE]] as const) {
    if (!epoll.add(fd, tag)) throw new Error(`epoll_ctl on fd ${fd} failed`);
  }
  const drain = new BigUint64Array(1);
  const stopped = (): boolean => Atomics.load(ctl, CTL_STOP) !== 0;
  let broken = false;

  /** Serve until the ring is empty and the frontend has been asked to kick us for the next request. */
  const service = (): void => {
    do {
      for (let batch = ring.take(); batch.length > 0; batch = ring.take()) {
        const rsps = handler.process(batch);
        if (rsps.length !== batch.length) throw new Error(`handler answered ${rsps.length} of ${batch.length} requests`);
        for (const r of rsps) ring.respond(r);
        if (ring.push()) libc.write(init.notifyFd, ONE, 8);
        if (stopped()) return;
      }
    } while (ring.finalCheck());
  };

  send({ t: 'ready' });
  let first = true;
  while (!stopped()) {
    // The frontend may have queued requests before we bound the channel: look once unasked.
    let kicked = first;
    first = false;
    if (!kicked) {
      for (const tag of epoll.wait(1000)) {
        // One read covers every signal since the last one.
        libc.read(tag === KICK ? init.kickFd : init.wakeFd, drain, 8);
        if (tag === KICK) kicked = true;
      }
    }
    if (!kicked || broken || stopped()) continue;
    try {
      service();
    } catch (err) {
      if (err instanceof DataPathStopped) break;
      broken = true;
      const why = err instanceof RingOverflowError ? `malformed ring: ${err.message}` : `data path error: ${(err as Error).stack ?? err}`;
      send({ t: 'fault', reason: why });
    }
  }
  handler.close?.();
  epoll.close();
  port.close();
  parentPort?.close();
}
