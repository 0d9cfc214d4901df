// grant-table-op.ts: hypercall 20, grant_table_op(cmd, uop, count) — grant tables v1 for HVM/PVH
// guests. Each op struct is read once (a private copy), validated, and its result written back;
// per-op results go in the struct's status, the call itself returns 0 or a whole-call -errno.
import { HC } from '../../abi/hypercalls.ts';
import {
  GNTTABOP, GNTST, GnttabMapGrantRef, GnttabUnmapGrantRef, GnttabSetupTable, GnttabCopy, GnttabQuerySize,
  GnttabSetVersion, GnttabGetVersion, GnttabSwapGrantRef,
} from '../../abi/grant-table.ts';
import { DOMID } from '../../abi/multicall.ts';
import { readNum, writeField } from '../../abi/layout.ts';
import { neg } from '../../abi/errno.ts';
import { GuestFault } from '../memory/guest-access.ts';
import type { HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';
import { MAX_FRAMES } from '../state/grant-state.ts';
import { ensureTable, growTable, frameGfns } from '../grants/table.ts';
import { mapGrantRef, unmapGrantRef } from '../grants/map.ts';
import { copyOne, type CopySide } from '../grants/copy.ts';
import { isPinned } from '../grants/entries.ts';

const OP = GNTTABOP.values;
const ST = GNTST.values;

/**
 * 32-bit callers: copy and setup_table hold xen_pfn_t / handles, which are 4 bytes there
 * (compat layouts, 4-byte aligned); the other structs are the same in both modes.
 */
const COMPAT_COPY = { size: 24, srcU: 0, srcDomid: 4, srcOff: 6, dstU: 8, dstDomid: 12, dstOff: 14, len: 16, flags: 18, status: 20 } as const;
const COMPAT_SETUP = { size: 16, dom: 0, nrFrames: 4, status: 8, frameList: 12 } as const;

/** Xen's HVM filter: only these commands reach the grant table code; the rest are -ENOSYS. */
const HVM_ALLOWED = new Set<number>([
  OP.map_grant_ref, OP.unmap_grant_ref, OP.setup_table, OP.copy, OP.query_size, OP.set_version, OP.get_version,
  OP.swap_grant_ref,
]);

/** Whose table an op with a `dom` field may look at: the caller's own, any (privileged), or none. */
type Target = { kind: 'self' } | { kind: 'other'; domid: number } | { kind: 'missing' } | { kind: 'denied' };

function target(ctx: HypercallContext, dom: number): Target {
  const domid = dom === DOMID.values.SELF ? ctx.dom.domid : dom;
  if (domid === ctx.dom.domid) return { kind: 'self' };
  if (!ctx.dom.domains.with(domid, false, () => true)) return { kind: 'missing' };
  return ctx.dom.privileged ? { kind: 'other', domid } : { kind: 'denied' };
}

/** Run `one` over `count` structs of `size` bytes at `uop`; a fault ends the call with -EFAULT. */
function eachOp(ctx: HypercallContext, uop: bigint, count: number, size: number, one: (v: DataView, at: bigint) => void): bigint {
  for (let i = 0; i < count; i++) {
    if (ctx.stopRequested()) return 0n;
    const at = uop + BigInt(i * size);
    one(ctx.guest.readView(at, size), at);
  }
  return 0n;
}

function writeStatus(ctx: HypercallContext, at: bigint, offset: number, status: number): void {
  const b = new DataView(new ArrayBuffer(2));
  b.setInt16(0, status, true);
  ctx.guest.writeView(at + BigInt(offset), b);
}

function mapOps(ctx: HypercallContext, uop: bigint, count: number): bigint {
  const S = GnttabMapGrantRef;
  return eachOp(ctx, uop, count, S.size, (v, at) => {
    const r = mapGrantRef(ctx.dom, {
      hostAddr: v.getBigUint64(S.byName.host_addr.offset, true), flags: readNum(v, 0, S, 'flags'),
      ref: readNum(v, 0, S, 'ref'), dom: readNum(v, 0, S, 'dom'),
    });
    writeField(v, 0, S, 'status', r.status);
    if (r.status === ST.okay) {
      writeField(v, 0, S, 'handle', r.handle);
      // No IOMMU and no machine addresses: the bus address is 0 (unmap accepts only 0).
      writeField(v, 0, S, 'dev_bus_addr', 0n);
    }
    ctx.guest.writeView(at, v);
  });
}

function unmapOps(ctx: HypercallContext, uop: bigint, count: number): bigint {
  const S = GnttabUnmapGrantRef;
  return eachOp(ctx, uop, count, S.size, (v, at) => {
    const status = unmapGrantRef(ctx.dom, {
      hostAddr: v.getBigUint64(S.byName.host_addr.offset, true),
      devBusAddr: v.getBigUint64(S.byName.dev_bus_addr.offset, true), handle: readNum(v, 0, S, 'handle'),
    });
    writeStatus(ctx, at, S.byName.status.offset, status);
  });
}

function copyOps(ctx: HypercallContext, uop: bigint, count: number): bigint {
  const compat = ctx.mode === 32;
  const C = COMPAT_COPY;
  const N = GnttabCopy.byName;
  const size = compat ? C.size : GnttabCopy.size;
  return eachOp(ctx, uop, count, size, (v, at) => {
    const side = (u: number, domid: number, off: number): CopySide => ({
      refOrGfn: compat ? BigInt(v.getUint32(u, true)) : v.getBigUint64(u, true),
      domid: v.getUint16(domid, true), offset: v.getUint16(off, true),
    });
    const status = compat
      ? copyOne(ctx.dom, {
        source: side(C.srcU, C.srcDomid, C.srcOff), dest: side(C.dstU, C.dstDomid, C.dstOff),
        len: v.getUint16(C.len, true), flags: v.getUint16(C.flags, true),
      })
      : copyOne(ctx.dom, {
        source: side(N['source.u.ref'].offset, N['source.domid'].offset, N['source.offset'].offset),
        dest: side(N['dest.u.ref'].offset, N['dest.domid'].offset, N['dest.offset'].offset),
        len: readNum(v, 0, GnttabCopy, 'len'), flags: readNum(v, 0, GnttabCopy, 'flags'),
      });
    writeStatus(ctx, at, compat ? C.status : N.status.offset, status);
  });
}

function setupTable(ctx: HypercallContext, uop: bigint, count: number): bigint {
  if (count !== 1) return neg('EINVAL');
  const compat = ctx.mode === 32;
  const S = GnttabSetupTable;
  const v = ctx.guest.readView(uop, compat ? COMPAT_SETUP.size : S.size);
  const statusOff = compat ? COMPAT_SETUP.status : S.byName.status.offset;
  const nr = readNum(v, 0, S, 'nr_frames');
  const frameList = compat ? BigInt(v.getUint32(COMPAT_SETUP.frameList, true)) : v.getBigUint64(S.byName.frame_list.offset, true);
  const t = target(ctx, readNum(v, 0, S, 'dom'));
  let status: number = ST.okay;
  if (t.kind === 'missing') status = ST.bad_domain;
  else if (t.kind === 'denied') status = ST.permission_denied;
  else if (nr > MAX_FRAMES) status = ST.general_error;
  else {
    const domid = t.kind === 'other' ? t.domid : ctx.dom.domid;
    // Growing needs the owner's page pool, so only the caller's own table grows here.
    const grown = t.kind === 'self' ? growTable(ctx.dom, nr) : ctx.dom.domains.with(domid, false, (h) => nr <= h.shared.grants.nrFrames);
    const gfns = grown ? ctx.dom.domains.with(domid, null, (h) => frameGfns(h.shared.grants, nr)) : null;
    if (gfns === null) status = ST.general_error;
    else {
      const width = compat ? 4 : 8;
      gfns.forEach((gfn, i) => {
        const b = new DataView(new ArrayBuffer(width));
        if (compat) b.setUint32(0, Number(gfn & 0xffffffffn), true);
        else b.setBigUint64(0, gfn, true);
        try {
          ctx.guest.writeView(frameList + BigInt(i * width), b);
        } catch (err) {
          // Xen reports an unwritable frame list in the status, not as a failed call.
          if (!(err instanceof GuestFault)) throw err;
          status = ST.bad_virt_addr;
        }
      });
    }
  }
  writeStatus(ctx, uop, statusOff, status);
  return 0n;
}

function querySize(ctx: HypercallContext, uop: bigint, count: number): bigint {
  if (count !== 1) return neg('EINVAL');
  const S = GnttabQuerySize;
  const v = ctx.guest.readView(uop, S.size);
  const t = target(ctx, readNum(v, 0, S, 'dom'));
  if (t.kind === 'missing') writeField(v, 0, S, 'status', ST.bad_domain);
  else if (t.kind === 'denied') writeField(v, 0, S, 'status', ST.permission_denied);
  else {
    const nr = ctx.dom.domains.with(t.kind === 'other' ? t.domid : ctx.dom.domid, 0, (h) => h.shared.grants.nrFrames);
    writeField(v, 0, S, 'nr_frames', nr);
    writeField(v, 0, S, 'max_nr_frames', MAX_FRAMES);
    writeField(v, 0, S, 'status', ST.okay);
  }
  ctx.guest.writeView(uop, v);
  return 0n;
}

/**
 * Version 2 is not offered: asking for it answers -ENOSYS, as Xen does when booted with
 * gnttab=max-ver:1 (Linux then stays on v1). The version in effect (1) is always written back.
 */
function setVersion(ctx: HypercallContext, uop: bigint): bigint {
  const v = ctx.guest.readView(uop, GnttabSetVersion.size);
  const want = readNum(v, 0, GnttabSetVersion, 'version');
  const rc = want === 1 ? 0n : want === 2 ? neg('ENOSYS') : neg('EINVAL');
  writeField(v, 0, GnttabSetVersion, 'version', ctx.dom.shared.grants.version);
  ctx.guest.writeView(uop, v);
  return rc;
}

function getVersion(ctx: HypercallContext, uop: bigint): bigint {
  const S = GnttabGetVersion;
  const v = ctx.guest.readView(uop, S.size);
  const t = target(ctx, readNum(v, 0, S, 'dom'));
  if (t.kind === 'missing') return neg('ESRCH');
  if (t.kind === 'denied') return neg('EPERM');
  const version = ctx.dom.domains.with(t.kind === 'other' ? t.domid : ctx.dom.domid, 1, (h) => h.shared.grants.version);
  const out = new DataView(new ArrayBuffer(4));
  out.setUint32(0, version, true);
  ctx.guest.writeView(uop + BigInt(S.byName.version.offset), out);
  return 0n;
}

/** Swap two of the caller's entries (8 bytes each); a pinned entry answers GNTST_eagain. */
function swapOps(ctx: HypercallContext, uop: bigint, count: number): bigint {
  const S = GnttabSwapGrantRef;
  return eachOp(ctx, uop, count, S.size, (v, at) => {
    const a = readNum(v, 0, S, 'ref_a');
    const b = readNum(v, 0, S, 'ref_b');
    const self = ctx.dom.domains.self();
    const gs = self.shared.grants;
    let status: number = ST.okay;
    gs.lock();
    try {
      if (a >= gs.nrEntries || b >= gs.nrEntries) status = ST.bad_gntref;
      else if (a !== b) {
        if (isPinned(self, a) || isPinned(self, b)) status = ST.eagain;
        else {
          const oa = gs.entryOffset(a);
          const ob = gs.entryOffset(b);
          const tmp = self.u8.slice(oa, oa + 8);
          self.u8.copyWithin(oa, ob, ob + 8);
          self.u8.set(tmp, ob);
        }
      }
    } finally {
      gs.unlock();
    }
    writeStatus(ctx, at, S.byName.status.offset, status);
  });
}

export function grantTableOp(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = args[0]! & 0xffffffffn;
  const uop = args[1]!;
  const count = Number(args[2]! & 0xffffffffn);
  // Matched on the whole cmd: high "continuation" bits are never a valid HVM command.
  if (!HVM_ALLOWED.has(Number(cmd))) return neg('ENOSYS');
  if (count >= 0x80000000) return neg('EINVAL');
  // The table gets its pages when the domain first uses it.
  if (!ensureTable(ctx.dom)) return neg('ENOMEM');
  switch (Number(cmd)) {
    case OP.map_grant_ref: return mapOps(ctx, uop, count);
    case OP.unmap_grant_ref: return unmapOps(ctx, uop, count);
    case OP.setup_table: return setupTable(ctx, uop, count);
    case OP.copy: return copyOps(ctx, uop, count);
    case OP.query_size: return querySize(ctx, uop, count);
    case OP.set_version: return setVersion(ctx, uop);
    case OP.get_version: return getVersion(ctx, uop);
    default: return swapOps(ctx, uop, count);
  }
}

export function registerGrantTableOp(table: HypercallTable): void {
  table.register(HC.grant_table_op, 'grant_table_op', grantTableOp);
}
