// context.ts: what dom0 hands a backend for its guests — xenstore, grant maps, event channels and
// guest memory — as interfaces, so backends run against dom0 proper or the test mock alike.
import type { XenbusStore } from './xenbus/store-api.ts';

export type { XenbusStore } from './xenbus/store-api.ts';

/** One grant to map: `readonly` asks for a read-only mapping (the guest may have granted only that). */
export interface GrantMapOp {
  readonly domid: number;
  readonly ref: number;
  readonly readonly: boolean;
}

/** Per-op result: status is a GNTST code (0 = okay); offset is the frame's byte offset in guest memory. */
export interface GrantMapResult {
  readonly status: number;
  readonly handle: number;
  readonly offset: number;
}

/** Grant mapping as dom0 does it (the lead builds it from HvClient's grant_map/grant_unmap batches). */
export interface GrantService {
  map(ops: GrantMapOp[]): Promise<GrantMapResult[]>;
  /** Per-handle GNTST status. */
  unmap(handles: number[]): Promise<number[]>;
}

export interface BoundChannel {
  readonly channel: number;
  /** Readable (eventfd counter) whenever the guest signals the port. */
  readonly kickFd: number;
  /** Write a u64 1 to signal the guest. */
  readonly notifyFd: number;
}

export interface ChannelService {
  /**
   * Bind dom0 to the guest's unbound port (remote dom0): eventfds to wait on / write to. The
   * fds become the caller's: it closes them after unbind.
   */
  bind(domid: number, port: number): Promise<BoundChannel>;
  unbind(channel: number): Promise<void>;
}

export interface BackendContext {
  /** From ./xenbus/store-api.ts (Xenstored.local satisfies it). */
  readonly store: XenbusStore;
  readonly grants: GrantService;
  readonly channels: ChannelService;
  /** A new fd of the guest's memory file, owned (and closed) by the caller; offsets from
   *  GrantService.map index into it. */
  guestMemoryFd(domid: number): Promise<number>;
  readonly log: (line: string) => void;
}

/** Xen's page size: grants, ring pages and sector offsets are all counted in it. */
export const PAGE_SIZE = 4096;
