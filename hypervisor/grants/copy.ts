// copy.ts: GNTTABOP_copy — bytes between two pages named by grant reference (in another domain,
// pinned for the copy with the same CAS protocol as a map) or by the caller's own GFN, copied
// straight between the two domains' memfd views.
import { GNTCOPY, GNTST } from '../../abi/grant-table.ts';
import { DOMID } from '../../abi/multicall.ts';
import { PAGE_SIZE } from '../memory/regions.ts';
import type { GrantCaller } from './caller.ts';
import type { DomainHandle } from '../state/domain-handle.ts';
import { pinEntry, unpinEntry } from './entries.ts';

const ST = GNTST.values;

export interface CopySide {
  /** Grant reference (gref side) or GFN (local side), as the guest wrote the union. */
  readonly refOrGfn: bigint;
  readonly domid: number;
  readonly offset: number;
}

export interface CopyRequest {
  readonly source: CopySide;
  readonly dest: CopySide;
  readonly len: number;
  readonly flags: number;
}

/** A claimed page: its domain's memory and the page's offset there, plus the pin to drop. */
interface Claim {
  readonly h: DomainHandle;
  readonly pageOffset: number;
  readonly ref: number | null;
  readonly readonly: boolean;
}

/**
 * One copy op. Order of checks as in Xen: each side's domain (a local GFN only with DOMID_SELF:
 * permission_denied; an unknown domain: bad_domain), then claim the source (read) and the dest
 * (write), then offsets and length (bad_copy_arg), then copy.
 */
export function copyOne(dom: GrantCaller, req: CopyRequest): number {
  const src = resolve(dom, req.source, (req.flags & GNTCOPY.values.source_gref) !== 0);
  if (typeof src === 'number') return src;
  const dst = resolve(dom, req.dest, (req.flags & GNTCOPY.values.dest_gref) !== 0);
  if (typeof dst === 'number') return dst;
  const domains = dom.domains;
  return domains.with(src.domid, ST.bad_domain, (hs) => domains.with(dst.domid, ST.bad_domain, (hd) => {
    const s = claim(dom, hs, src.isGref, req.source.refOrGfn, true);
    if (typeof s === 'number') return s;
    try {
      const d = claim(dom, hd, dst.isGref, req.dest.refOrGfn, false);
      if (typeof d === 'number') return d;
      try {
        if (req.source.offset + req.len > PAGE_SIZE || req.dest.offset + req.len > PAGE_SIZE) return ST.bad_copy_arg;
        const from = s.pageOffset + req.source.offset;
        // set() copies through a temporary when both views share one buffer (a copy within a page).
        d.h.u8.set(s.h.u8.subarray(from, from + req.len), d.pageOffset + req.dest.offset);
        return ST.okay;
      } finally {
        release(d);
      }
    } finally {
      release(s);
    }
  }));
}

interface Side {
  readonly domid: number;
  readonly isGref: boolean;
}

function resolve(dom: GrantCaller, side: CopySide, isGref: boolean): Side | number {
  // Only DOMID_SELF may name a frame directly (not even the caller's own numeric id).
  if (!isGref && side.domid !== DOMID.values.SELF) return ST.permission_denied;
  const domid = side.domid === DOMID.values.SELF ? dom.domid : side.domid;
  if (domid !== dom.domid && !dom.domains.with(domid, false, () => true)) return ST.bad_domain;
  return { domid, isGref };
}

function claim(dom: GrantCaller, h: DomainHandle, isGref: boolean, refOrGfn: bigint, readonly: boolean): Claim | number {
  if (!isGref) {
    // A local frame must be the caller's own RAM.
    if (refOrGfn >= BigInt(Math.floor(dom.ramBytes / PAGE_SIZE))) return ST.bad_page;
    return { h, pageOffset: Number(refOrGfn) * PAGE_SIZE, ref: null, readonly };
  }
  const ref = Number(refOrGfn & 0xffffffffn);
  const gs = h.shared.grants;
  gs.lock();
  try {
    const p = pinEntry(h, ref, dom.domid, readonly, false);
    if (p.status !== ST.okay) return p.status;
    return { h, pageOffset: p.frame * PAGE_SIZE, ref, readonly };
  } finally {
    gs.unlock();
  }
}

function release(c: Claim): void {
  if (c.ref === null) return;
  const gs = c.h.shared.grants;
  gs.lock();
  try {
    unpinEntry(c.h, c.ref, c.readonly);
  } finally {
    gs.unlock();
  }
}
