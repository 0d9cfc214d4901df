// backend.ts: the PV console backend for one domain — output to listeners, log and backlog; input
// from a terminal into the guest's ring.
//
// Driven from outside: whoever owns the domain's console event channel calls `onGuestEvent()`
// when the guest signals, and passes `notify` to signal it back. Output is drained on every event
// because guests may spin (SCHEDOP_yield) until their ring empties (docs/host-kvm.md §2).
import { EventEmitter } from 'eventemitter3';
import { ConsoleRing } from './ring.ts';
import { Backlog } from './backlog.ts';
import { InputQueue } from './input-queue.ts';
import { ConsoleLog } from './console-log.ts';

/** Terminal input held back while the guest's ring is full. */
export const INPUT_QUEUE_MAX = 64 * 1024;
/** Recent output kept for clients that attach later. */
export const BACKLOG_MAX = 64 * 1024;

export interface ConsoleBackendOptions {
  readonly domid: number;
  readonly name: string;
  /** The guest's xencons_interface page, mapped by dom0. */
  readonly page: Uint8Array;
  /** Signal the guest's console event channel. */
  readonly notify: () => void;
  /** Append all output here (created if missing). */
  readonly logPath?: string;
}

export interface ConsoleBackendEvents {
  output: (bytes: Uint8Array) => void;
  /** The guest published impossible ring indices; the console is dead until the domain goes. */
  broken: (reason: string) => void;
  /** The log file could not be opened or written; output still flows to listeners. */
  'log-error': (err: Error) => void;
}

export class ConsoleBackend extends EventEmitter<ConsoleBackendEvents> {
  readonly domid: number;
  readonly name: string;
  private readonly ring: ConsoleRing;
  private readonly notifyGuest: () => void;
  private readonly input = new InputQueue(INPUT_QUEUE_MAX);
  private readonly recent = new Backlog(BACKLOG_MAX);
  private readonly log: ConsoleLog | null;
  private closed = false;
  private reportedBroken = false;

  constructor(opts: ConsoleBackendOptions) {
    super();
    this.domid = opts.domid;
    this.name = opts.name;
    this.ring = new ConsoleRing(opts.page);
    this.notifyGuest = opts.notify;
    this.log = opts.logPath === undefined ? null : new ConsoleLog(opts.logPath, (err) => this.emit('log-error', err));
  }

  /** Input bytes dropped because the queue was full. */
  get inputDropped(): number {
    return this.input.dropped;
  }

  /** Input bytes waiting for room in the guest's ring. */
  get inputQueued(): number {
    return this.input.length;
  }

  get broken(): boolean {
    return this.ring.broken;
  }

  /** The guest signalled: take its output, and refill its input ring if it made room. */
  onGuestEvent(): void {
    if (this.closed) return;
    const out = this.ring.drainOutput();
    if (out.length > 0) {
      this.recent.append(out);
      this.log?.append(out);
      this.emit('output', out);
    }
    const pushed = this.pumpInput();
    if (this.checkBroken()) return;
    // Like xenconsoled: a guest waiting for ring space learns about it from this event.
    if (out.length > 0 || pushed > 0) this.notifyGuest();
  }

  /** Queue terminal input for the guest (bounded; the excess is dropped and counted). */
  write(bytes: Uint8Array): void {
    if (this.closed || this.ring.broken) return;
    let pushed = this.pumpInput();
    // Straight into the ring when nothing is queued ahead of it; only the remainder waits.
    const direct = this.input.length === 0 ? this.ring.pushInput(bytes) : 0;
    pushed += direct;
    this.input.enqueue(bytes.subarray(direct));
    if (this.checkBroken()) return;
    if (pushed > 0) this.notifyGuest();
  }

  /** Recent output, oldest first (at most BACKLOG_MAX bytes). */
  backlog(): Uint8Array {
    return this.recent.snapshot();
  }

  /** Stop serving the ring, write out the log and close it. */
  async close(): Promise<void> {
    this.closed = true;
    this.input.clear();
    if (this.log !== null) await this.log.close();
  }

  private pumpInput(): number {
    if (this.input.length === 0) return 0;
    return this.input.drainInto((bytes) => this.ring.pushInput(bytes));
  }

  private checkBroken(): boolean {
    if (!this.ring.broken) return false;
    if (!this.reportedBroken) {
      this.reportedBroken = true;
      this.input.clear();
      this.emit('broken', this.ring.reason ?? 'broken ring');
    }
    return true;
  }
}
