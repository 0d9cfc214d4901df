// state.ts: reading and naming xenbus device states (io/xenbus.h; the values are
// abi/io/xenbus.ts's), as each side writes them to its `state` node.
import { XenbusState, type XenbusStateValue } from '../../../abi/io/xenbus.ts';

/** Names by value (the values are 0..8 in order). */
const NAMES: readonly string[] = Object.keys(XenbusState).sort(
  (a, b) => XenbusState[a as keyof typeof XenbusState] - XenbusState[b as keyof typeof XenbusState],
);

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
