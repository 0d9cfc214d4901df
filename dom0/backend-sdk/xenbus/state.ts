// state.ts: xenbus device states (io/xenbus.h), as each side writes them to its `state` node.

export const XenbusState = {
  Unknown: 0,
  Initialising: 1,
  InitWait: 2,
  Initialised: 3,
  Connected: 4,
  Closing: 5,
  Closed: 6,
  Reconfiguring: 7,
  Reconfigured: 8,
} as const;

export type XenbusStateValue = (typeof XenbusState)[keyof typeof XenbusState];

const NAMES: readonly string[] = Object.keys(XenbusState);

/** "Connected", or "state 42" for a value outside the enum. */
export function stateName(s: number): string {
  return Number.isInteger(s) && s >= 0 && s < NAMES.length ? NAMES[s]! : `state ${s}`;
}

/**
 * A `state` node's value. The peer may write anything: like Linux's xenbus_read_driver_state,
 * a missing node or one that is not a decimal state in range reads as Unknown.
 */
export function parseState(raw: string | null): XenbusStateValue {
  if (raw === null || !/^\s*[0-9]{1,2}\s*$/.test(raw)) return XenbusState.Unknown;
  const n = Number(raw);
  return n < NAMES.length ? (n as XenbusStateValue) : XenbusState.Unknown;
}
