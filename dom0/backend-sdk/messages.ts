// messages.ts: what a data-path worker and dom0's main thread say to each other. The worker
// never returns to its event loop while serving, so answers come back on a MessagePort it
// drains synchronously (receiveMessageOnPort) after an Atomics.wait on the control words.
import type { MessagePort } from 'node:worker_threads';

/** Everything a data-path worker starts with (workerData). */
export interface DataPathInit<C> {
  readonly domid: number;
  /** Control words: [SEQ, STOP] (Int32Array over this SharedArrayBuffer). */
  readonly ctl: SharedArrayBuffer;
  /** The worker's end of the grant channel (transferred). */
  readonly port: MessagePort;
  /** Host address and size of dom0's mapping of the whole guest memory file. */
  readonly memBase: bigint;
  readonly memSize: number;
  /** Byte offsets of the ring pages in guest memory, in ring-ref order. */
  readonly ringOffsets: readonly number[];
  readonly kickFd: number;
  readonly notifyFd: number;
  /** Written by the main thread to wake the worker out of epoll_wait (stop). */
  readonly wakeFd: number;
  /** The frontend's `protocol` key: "x86_64-abi" or "x86_32-abi". */
  readonly protocol: string;
  /** The frontend asked for persistent grants (`feature-persistent` = 1). */
  readonly persistent: boolean;
  /** The backend's own settings (structured-cloneable). */
  readonly config: C;
  /** The worker thread's name in /proc (per-thread CPU time, profiles); at most 15 bytes. */
  readonly threadName?: string;
}

export const CTL_SEQ = 0;
export const CTL_STOP = 1;
export const CTL_WORDS = 2;

export interface MapRefOp {
  readonly ref: number;
  readonly readonly: boolean;
}

export interface MapResultMsg {
  readonly status: number;
  readonly handle: number;
  readonly offset: number;
}

/** Worker → main thread. */
export type WorkerToMain =
  | { readonly t: 'ready' }
  | { readonly t: 'map'; readonly ops: readonly MapRefOp[] }
  | { readonly t: 'unmap'; readonly handles: readonly number[] }
  | { readonly t: 'log'; readonly line: string }
  /** The device cannot go on (malformed ring, backend bug): disconnect it. */
  | { readonly t: 'fault'; readonly reason: string };

/**
 * A grant request as dom0's main thread serves it, for any data-path worker: a device's worker
 * maps its own domain's grants (its 'map' names none), netback's maps for whichever vif asks.
 */
export type GrantRequest =
  | { readonly t: 'map'; readonly domid: number; readonly ops: readonly MapRefOp[] }
  | { readonly t: 'unmap'; readonly handles: readonly number[] };

/**
 * Main thread → worker, answering a map or unmap in order. Unmap status is per handle asked for:
 * a GNTST code, GNTST_bad_handle (-4) for a handle this worker does not hold.
 */
export type GrantAnswer =
  | { readonly t: 'mapped'; readonly results: readonly MapResultMsg[] }
  | { readonly t: 'unmapped'; readonly status: readonly number[] };
