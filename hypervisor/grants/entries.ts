// entries.ts: pinning a granter's grant entry for a map or a copy (Xen's _set_status_v1 and the
// active entry), and unpinning it — the only code that writes GTF_reading / GTF_writing.
//
// A v1 entry's flags (low half) and grantee domid (high half) share one 32-bit word, so a single
// compare-and-swap both checks the permission and publishes the access flag: a granter rewriting
// its entry concurrently either sees GTF_reading/writing set (and must not revoke) or makes the
// swap fail, and the loop re-checks the new value. Nobody obtains access the entry never gave.
//
// The active entry (hypervisor-private, in a pool page of the granter's memfd) holds the pin
// counts and the frame and grantee recorded at the first pin, as in Xen:
//   word 0: bits 0–7 writable pins, bits 8–15 read-only pins, bits 16–31 grantee domid
//   word 1: the granted frame (GFN in the granter)
// Every function here runs with the granter's grant lock held.
import { GTF, GNTST } from '../../abi/grant-table.ts';
import type { DomainHandle } from '../state/domain-handle.ts';

const G = GTF.values;
const ST = GNTST.values;

const PIN_W = 0x01;
const PIN_R = 0x100;
const PIN_W_MASK = 0xff;
const PIN_MASK = 0xffff;
/** A counter at 128 or more refuses further pins (Xen guards its 8-bit counters the same way). */
const PIN_OVERFLOW = 0x8080;
/** Compare-and-swap retries before the entry is declared unstable (Xen allows five tries). */
const CAS_TRIES = 5;

export interface Pinned {
  readonly status: number;
  /** The granted frame (valid when status is GNTST_okay). */
  readonly frame: number;
}

/**
 * Pin entry `ref` of granter `h` for grantee `ldomid`. `forMap` also refuses GTF_sub_page (a v2
 * flag maps never accept). Checks, in Xen's order: ref in range (bad_gntref), an existing pin
 * belongs to this grantee and has room (general_error), the entry permits this access
 * (general_error), the frame is the granter's RAM (bad_page).
 */
export function pinEntry(h: DomainHandle, ref: number, ldomid: number, readonly: boolean, forMap: boolean): Pinned {
  const gs = h.shared.grants;
  if (ref >= gs.nrEntries) return { status: ST.bad_gntref, frame: 0 };
  const entry = gs.entryOffset(ref);
  const active = gs.activeOffset(ref);
  // A frame the table never gave storage to holds only invalid entries.
  if (entry < 0 || active < 0) return { status: ST.general_error, frame: 0 };
  const ew = entry >>> 2;
  const aw = active >>> 2;
  const pin = Atomics.load(h.i32, aw);
  const pins = pin & PIN_MASK;
  if (pins !== 0 && ((pin >>> 16) !== ldomid || (pins & PIN_OVERFLOW) !== 0)) {
    return { status: ST.general_error, frame: 0 };
  }
  let frame = Atomics.load(h.i32, aw + 1) >>> 0;
  if (pins === 0 || (!readonly && (pins & PIN_W_MASK) === 0)) {
    const st = setStatus(h.i32, ew, ldomid, readonly, forMap);
    if (st !== ST.okay) return { status: st, frame: 0 };
    if (pins === 0) {
      // The frame is read after the swap: from here on the granter may not change the entry.
      frame = Atomics.load(h.i32, ew + 1) >>> 0;
      if (frame >= gs.ramPages) {
        clearFlags(h.i32, ew, pins, readonly);
        return { status: ST.bad_page, frame: 0 };
      }
      Atomics.store(h.i32, aw + 1, frame);
    }
  }
  const next = pins + (readonly ? PIN_R : PIN_W);
  Atomics.store(h.i32, aw, (ldomid << 16) | next);
  return { status: ST.okay, frame };
}

/** Drop one pin taken by pinEntry; clear GTF_writing with the last writer, GTF_reading with the last pin. */
export function unpinEntry(h: DomainHandle, ref: number, readonly: boolean): void {
  const gs = h.shared.grants;
  const entry = gs.entryOffset(ref);
  const active = gs.activeOffset(ref);
  if (entry < 0 || active < 0) return;
  const aw = active >>> 2;
  const pin = Atomics.load(h.i32, aw);
  const pins = pin & PIN_MASK;
  const dec = readonly ? PIN_R : PIN_W;
  const has = readonly ? (pins & ~PIN_W_MASK) !== 0 : (pins & PIN_W_MASK) !== 0;
  if (!has) return; // never pinned this way: a bookkeeping slip must not underflow into the other counter
  const left = pins - dec;
  Atomics.store(h.i32, aw, left === 0 ? 0 : (pin & ~PIN_MASK) | left);
  clearFlags(h.i32, entry >>> 2, left, readonly);
}

/** True while any map or copy holds entry `ref` (swap_grant_ref refuses then). */
export function isPinned(h: DomainHandle, ref: number): boolean {
  const active = h.shared.grants.activeOffset(ref);
  return active >= 0 && (Atomics.load(h.i32, active >>> 2) & PIN_MASK) !== 0;
}

/**
 * Set GTF_reading (and GTF_writing) on the entry word `w` if, in the same atomic step, the entry
 * permits access to `ldomid`. Unlike Xen, the type and grantee are re-checked even when another
 * pin exists: a granter that rewrote a pinned entry gets no new writable access from it.
 */
function setStatus(i32: Int32Array, w: number, ldomid: number, readonly: boolean, forMap: boolean): number {
  const mask = G.type_mask | (forMap ? G.sub_page : 0);
  let seen = Atomics.load(i32, w);
  for (let tries = 1; ; tries++) {
    const flags = seen & 0xffff;
    if ((flags & mask) !== G.permit_access || (seen >>> 16) !== ldomid) return ST.general_error;
    let want = seen | G.reading;
    if (!readonly) {
      if ((flags & G.readonly) !== 0) return ST.general_error;
      want |= G.writing;
    }
    const prev = Atomics.compareExchange(i32, w, seen, want);
    if (prev === seen) return ST.okay;
    if (tries === CAS_TRIES) return ST.general_error;
    seen = prev;
  }
}

/** After a pin was dropped (or not taken): `pins` is what remains. */
function clearFlags(i32: Int32Array, w: number, pins: number, readonly: boolean): void {
  let clear = 0;
  if (!readonly && (pins & PIN_W_MASK) === 0) clear |= G.writing;
  if ((pins & PIN_MASK) === 0) clear |= G.reading;
  if (clear !== 0) Atomics.and(i32, w, ~clear);
}
