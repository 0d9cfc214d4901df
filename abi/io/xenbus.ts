// xenbus.ts: XenbusState (io/xenbus.h), the values each end of a PV device writes to its `state`
// node during the handshake.
import { defineConstants } from '../layout.ts';

export const XENBUS_STATE = defineConstants('XenbusState values', 'XenbusState', {
  Unknown: 0,
  Initialising: 1,
  /** Backend only: waiting for the frontend's transport details (hotplug done). */
  InitWait: 2,
  Initialised: 3,
  Connected: 4,
  Closing: 5,
  Closed: 6,
  Reconfiguring: 7,
  Reconfigured: 8,
}, { cEnum: 'xenbus_state' });

/** Keyed by the names Xen gives after the `XenbusState` prefix: XenbusState.Connected === 4. */
export const XenbusState = XENBUS_STATE.values;
export type XenbusStateValue = (typeof XenbusState)[keyof typeof XenbusState];
