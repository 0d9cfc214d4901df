// messages.ts: what dom0's main thread and the net data-path worker say to each other — vif
// attach/detach on a control port, grant maps on a separate grant port (the worker waits for
// those answers synchronously, so nothing else may arrive on it) in the backend SDK's terms.
import type { MessagePort } from 'node:worker_threads';

/** workerData of the net worker. */
export interface NetWorkerInit {
  /** Control words [SEQ, STOP] (the SDK's layout): SEQ is bumped with every grant answer. */
  readonly ctl: SharedArrayBuffer;
  readonly grantPort: MessagePort;
  readonly controlPort: MessagePort;
  /** Written by the main thread after posting a control message, to wake epoll_wait. */
  readonly wakeFd: number;
  /** Largest payload (Ethernet frame minus its 14-byte header) a vif may send or receive. */
  readonly mtu: number;
}

/** Counter slots of a vif's Float64Array (one writer: the worker). */
export const CNT = {
  txPackets: 0, txBytes: 1, txDropped: 2, txErrors: 3, rxPackets: 4, rxBytes: 5, rxDropped: 6,
} as const;
export const CNT_SLOTS = 7;

/** Everything the worker needs to serve one connected vif. */
export interface VifAttach {
  /** `DOMID/HANDLE`. */
  readonly key: string;
  readonly domid: number;
  /** Six bytes: the only source MAC the guest may use. */
  readonly mac: readonly number[];
  readonly memBase: bigint;
  readonly memSize: number;
  readonly txRingOffset: number;
  readonly rxRingOffset: number;
  /** Kick eventfds (one, or TX and RX with split channels). */
  readonly kickFds: readonly number[];
  readonly txNotifyFd: number;
  readonly rxNotifyFd: number;
  /** The frontend accepts packets over several RX buffers (feature-sg). */
  readonly sg: boolean;
  /** Keep grant maps for the connection (both ends wrote feature-persistent = 1). */
  readonly persistent: boolean;
  /** TAP fd when the vif is bridged (its port is then the TAP, not the internal switch). */
  readonly tapFd: number | null;
  /** Bytes per second the guest may send; null: unlimited. */
  readonly rateBytesPerSec: number | null;
  /** The rate's credit interval in µs (xl's `@INTERVAL`, 50 ms by default): the bucket holds one interval's bytes. */
  readonly rateIntervalUs: number;
  /** Float64Array(CNT_SLOTS) over this. */
  readonly counters: SharedArrayBuffer;
}

/** An emulated NIC (NE2000 in the hypervisor): its wire's dom0 end becomes a switch port. */
export interface NicAttach {
  readonly key: string;
  readonly domid: number;
  /** Six bytes: the only source MAC the guest may use. */
  readonly mac: readonly number[];
  /** dom0's end of the SOCK_SEQPACKET socketpair (non-blocking). */
  readonly fd: number;
  /** Float64Array(CNT_SLOTS) over this. */
  readonly counters: SharedArrayBuffer;
}

export type ControlToWorker =
  | { readonly t: 'attach'; readonly seq: number; readonly vif: VifAttach }
  | { readonly t: 'attach-nic'; readonly seq: number; readonly nic: NicAttach }
  | { readonly t: 'detach'; readonly seq: number; readonly key: string };

export type WorkerToControl =
  | { readonly t: 'ready' }
  | { readonly t: 'done'; readonly seq: number; readonly error: string | null }
  /** The vif's rings are unusable (hostile indices, a packet past the slot limit): disconnect it. */
  | { readonly t: 'fault'; readonly key: string; readonly reason: string }
  | { readonly t: 'log'; readonly line: string };

/** Grant maps and their answers: the backend SDK's, served by the same main-thread code. */
export type { MapRefOp as GrantOp, MapResultMsg as GrantResult, GrantRequest, GrantAnswer } from '../backend-sdk/messages.ts';
