// backend-device.ts: drive the backend half of one PV device through the xenbus state machine
// (docs/xen-abi.md §13), reacting to whatever the frontend writes to its `state` node.
//
// The owner (blkback, netback…) publishes its features, calls `switchState(InitWait)`, and then
// reacts to two events: 'connect' (read the transport keys, map, bind, publish, then
// `switchState(Connected)`) and 'close' (unmap, unbind, then `switchState(Closed)`). This class
// only decides *when*: it tolerates skipped and coalesced frontend states, a frontend that
// restarts without closing, garbage in `state`, and a frontend directory that disappears.
import { EventEmitter } from 'eventemitter3';
import { XsError } from '../../../abi/io/xs-error.ts';
import type { XenbusStore } from './store-api.ts';
import { XenbusState, type XenbusStateValue } from '../../../abi/io/xenbus.ts';
import { parseState } from './state.ts';

const S = XenbusState;

export interface BackendDeviceEvents {
  /** Every change of the frontend's state, after parsing (garbage or absence reads as Unknown). */
  'frontend-state': (state: XenbusStateValue) => void;
  /** The frontend has published its transport keys (Initialised or Connected). */
  connect: (frontendPath: string) => void;
  /** The frontend is closing, closed, gone or restarted: tear down, then switchState(Closed). */
  close: () => void;
}

/**
 * Where the handshake stands from the backend's point of view. 'stale': a device taken over from
 * a backend that died (a dom0 restart) — the frontend's Initialised/Connected and its transport
 * keys belong to the dead backend's connection, so nothing connects until the frontend has
 * started over (left those states).
 */
type Cycle = 'idle' | 'connected' | 'closing' | 'stale';

export class BackendDevice extends EventEmitter<BackendDeviceEvents> {
  readonly frontendPath: string;
  readonly frontDomid: number;
  private backState: XenbusStateValue;
  private frontState: XenbusStateValue | null = null;
  private cycle: Cycle;
  private unwatch: (() => void) | null = null;
  private disposed = false;

  /**
   * `backendPath` is the device's backend directory, as created by createDevicePair. Its
   * `frontend` and `frontend-id` keys are dom0's own (the guest may only read them), so they are
   * trusted, but checked for consistency; XsError ENOENT/EINVAL if they are missing or wrong.
   */
  constructor(private readonly store: XenbusStore, readonly backendPath: string, opts: { takeOver?: boolean } = {}) {
    super();
    const frontend = store.read(`${backendPath}/frontend`);
    const frontendId = store.read(`${backendPath}/frontend-id`);
    if (frontend === null || frontendId === null) throw new XsError('ENOENT', `${backendPath}: no frontend keys`);
    if (!/^[0-9]+$/.test(frontendId) || !frontend.startsWith(`/local/domain/${Number(frontendId)}/device/`)) {
      throw new XsError('EINVAL', `${backendPath}: frontend ${frontend} does not belong to domain ${frontendId}`);
    }
    this.frontendPath = frontend;
    this.frontDomid = Number(frontendId);
    this.backState = parseState(store.read(`${backendPath}/state`));
    // A backend found already Closed waits for the frontend to start over.
    this.cycle = opts.takeOver === true ? 'stale' : this.backState === S.Closed ? 'closing' : 'idle';
  }

  /** Start watching the frontend. Attach listeners first: a sync store may emit from here. */
  start(): this {
    if (this.unwatch === null && !this.disposed) {
      this.unwatch = this.store.watch(`${this.frontendPath}/state`, () => this.onFrontendChange());
    }
    return this;
  }

  /** This side's state, as last written. */
  get state(): XenbusStateValue {
    return this.backState;
  }

  /** The frontend's state as last seen, or null before the watch first fired. */
  get frontendState(): XenbusStateValue | null {
    return this.frontState;
  }

  /**
   * Write this side's state. Closed is always preceded by Closing, since a frontend may take a
   * jump straight to Closed for a missed Closing. Nothing is written once the device's backend
   * directory is gone, so a late teardown cannot resurrect a removed device.
   */
  switchState(s: XenbusStateValue): void {
    if (this.disposed || s === this.backState) return;
    if (s === S.Closed && this.backState !== S.Closing) this.writeState(S.Closing);
    this.writeState(s);
    this.evaluate();
  }

  /** A key of the frontend's directory (its transport keys: ring-ref, event-channel…). */
  readFrontend(key: string): string | null {
    return this.store.read(`${this.frontendPath}/${key}`);
  }

  /** Publish backend keys (features, device properties) atomically; false if the device is gone. */
  publish(keys: Readonly<Record<string, string>>): boolean {
    if (this.disposed) return false;
    return this.store.transaction((tx) => {
      if (tx.read(`${this.backendPath}/state`) === null) return false;
      for (const [k, v] of Object.entries(keys)) tx.write(`${this.backendPath}/${k}`, v);
      return true;
    });
  }

  /** Stop watching; no more events. Does not touch the store. */
  dispose(): void {
    this.disposed = true;
    this.unwatch?.();
    this.unwatch = null;
  }

  private writeState(s: XenbusStateValue): void {
    const path = `${this.backendPath}/state`;
    this.store.transaction((tx) => {
      if (tx.read(path) !== null) tx.write(path, String(s));
    });
    this.backState = s;
  }

  private onFrontendChange(): void {
    if (this.disposed) return;
    const s = parseState(this.store.read(`${this.frontendPath}/state`));
    // The watch also fires for writes below `state` and for rewrites of the same value.
    if (s === this.frontState) return;
    this.frontState = s;
    this.emit('frontend-state', s);
    this.evaluate();
  }

  /** Decide what the current pair of states calls for. Re-entered from switchState. */
  private evaluate(): void {
    const f = this.frontState;
    if (f === null || this.disposed) return;
    const b = this.backState;

    if (this.cycle === 'stale') {
      if (f === S.Initialised || f === S.Connected) return;
      this.cycle = 'idle';
    }

    if (this.cycle === 'closing') {
      // Once our teardown is done, a frontend that starts over gets a fresh handshake.
      if (b === S.Closed && f === S.Initialising) {
        this.cycle = 'idle';
        this.switchState(S.InitWait);
      }
      return;
    }

    const gone = f === S.Closing || f === S.Closed || f === S.Unknown;
    // Back to the start without closing (a rebooted frontend, or Closing/Closed coalesced away).
    const restarted = this.cycle === 'connected' && (f === S.Initialising || f === S.InitWait);
    if (gone || restarted) {
      if (restarted && b === S.Closed && f === S.Initialising) {
        // We already closed on our own (a fault) and the frontend's Closed and Initialising
        // arrived as one watch event: nothing left to tear down, offer a fresh handshake.
        this.cycle = 'idle';
        this.switchState(S.InitWait);
        return;
      }
      this.cycle = 'closing';
      if (b !== S.Closing && b !== S.Closed) this.switchState(S.Closing);
      this.emit('close');
      return;
    }

    // Initialised may be skipped (netfront goes straight to Connected) or coalesced away.
    const frontendReady = f === S.Initialised || f === S.Connected;
    const backendReady = b === S.InitWait || b === S.Initialised;
    if (this.cycle === 'idle' && frontendReady && backendReady) {
      this.cycle = 'connected';
      this.emit('connect', this.frontendPath);
    }
  }
}
