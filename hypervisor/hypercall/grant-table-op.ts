// grant-table-op.ts: hypercall 20, grant_table_op(cmd, uop, count) — grant tables v1 for HVM/PVH
// guests. Each op struct is read once (a private copy), validated, and its result written back;
// per-op results go in the struct's status, the call itself returns 0 or a whole-call -errno.
import { HC } from '../../abi/hypercalls.ts';
import {
  GNTTABOP, GNTST, GnttabMapGrantRef, GnttabUnmapGrantRef, GnttabSetupTable, GnttabSetupTable32, GnttabCopy,
  GnttabCopy32, GnttabMapGrantRef32, GnttabUnmapGrantRef32, GnttabQuerySize, GnttabSetVersion, GnttabGetVersion,
  GnttabSwapGrantRef, GrantEntryV1,
} from '../../abi/grant-table.ts';
import { DOMID } from '../../abi/multicall.ts';
import type { StructDef } from '../../abi/layout.ts';
import { neg } from '../../abi/errno.ts';
import { GuestFault } from '../memory/guest-access.ts';
import { ulongType, type HypercallContext } from './context.ts';
import { GuestStruct, byMode, layoutFor, scalarArray, type ModeLayouts } from './guest-struct.ts';
import type { HypercallTable } from './table.ts';
import { MAX_FRAMES } from '../state/grant-state.ts';
import { ensureTable, growTable, frameGfns } from '../grants/table.ts';
import { mapGrantRef, unmapGrantRef } from '../grants/map.ts';
import { copyOne, type CopySide } from '../grants/copy.ts';
import { isPinned } from '../grants/entries.ts';

const OP = GNTTABOP.values;
const ST = GNTST.values;

/** copy and setup_table hold a xen_pfn_t or a handle, 4 bytes for 32-bit callers; the rest are the same. */
const COPY = byMode(GnttabCopy, GnttabCopy32);
const SETUP = byMode(GnttabSetupTable, GnttabSetupTable32);
/** map and unmap: one layout in both ABIs (abi/grant-table.ts), each checked against Xen's. */
const MAP = byMode(GnttabMapGrantRef, GnttabMapGrantRef32);
const UNMAP = byMode(GnttabUnmapGrantRef, GnttabUnmapGrantRef32);

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

/**
 * Run `one` over the `count` structs at `uop` (an array in the caller's layout), each read once; a
 * fault ends the call with -EFAULT.
 */
function eachOp<N extends string>(
  ctx: HypercallContext, uop: bigint, count: number, layout: StructDef<N> | ModeLayouts<N>,
  one: (op: GuestStruct<N>) => void,
): bigint {
  const size = layoutFor(ctx, layout).size;
  for (let i = 0; i < count; i++) {
    if (ctx.stopRequested()) return 0n;
    one(new GuestStruct(ctx, uop + BigInt(i * size), layout));
  }
  return 0n;
}

function mapOps(ctx: HypercallContext, uop: bigint, count: number): bigint {
  return eachOp(ctx, uop, count, MAP, (op) => {
    const r = mapGrantRef(ctx.dom, {
      hostAddr: op.getBig('host_addr'), flags: op.get('flags'), ref: op.get('ref'), dom: op.get('dom'),
    });
    op.set('status', r.status);
    if (r.status === ST.okay) {
      op.set('handle', r.handle);
      // No IOMMU and no machine addresses: the bus address is 0 (unmap accepts only 0).
      op.set('dev_bus_addr', 0n);
    }
    op.writeBack();
  });
}

function unmapOps(ctx: HypercallContext, uop: bigint, count: number): bigint {
  return eachOp(ctx, uop, count, UNMAP, (op) => {
    op.set('status', unmapGrantRef(ctx.dom, {
      hostAddr: op.getBig('host_addr'), devBusAddr: op.getBig('dev_bus_addr'), handle: op.get('handle'),
    }));
    op.writeBackField('status');
  });
}

function copyOps(ctx: HypercallContext, uop: bigint, count: number): bigint {
  return eachOp(ctx, uop, count, COPY, (op) => {
    // The whole union: a GFN side needs every bit of it, a gref side only the low 32 (copyOne).
    const source: CopySide = { refOrGfn: op.getBig('source.u.gmfn'), domid: op.get('source.domid'), offset: op.get('source.offset') };
    const dest: CopySide = { refOrGfn: op.getBig('dest.u.gmfn'), domid: op.get('dest.domid'), offset: op.get('dest.offset') };
    op.set('status', copyOne(ctx.dom, { source, dest, len: op.get('len'), flags: op.get('flags') }));
    op.writeBackField('status');
  });
}

function setupTable(ctx: HypercallContext, uop: bigint, count: number): bigint {
  if (count !== 1) return neg('EINVAL');
  const op = new GuestStruct(ctx, uop, SETUP);
  const nr = op.get('nr_frames');
  const frameList = op.getBig('frame_list');
  const t = target(ctx, op.get('dom'));
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
      // Frame numbers are xen_pfn_t: a 32-bit caller gets each truncated to 32 bits, as in Xen.
      const frame = scalarArray(ulongType(ctx), 1);
      gfns.forEach((gfn, i) => {
        const out = GuestStruct.blank(ctx, frameList + BigInt(i * frame.size), frame);
        out.set('e', gfn);
        try {
          out.writeBack();
        } catch (err) {
          // Xen reports an unwritable frame list in the status, not as a failed call.
          if (!(err instanceof GuestFault)) throw err;
          status = ST.bad_virt_addr;
        }
      });
    }
  }
  op.set('status', status);
  op.writeBackField('status');
  return 0n;
}

function querySize(ctx: HypercallContext, uop: bigint, count: number): bigint {
  if (count !== 1) return neg('EINVAL');
  const op = new GuestStruct(ctx, uop, GnttabQuerySize);
  const t = target(ctx, op.get('dom'));
  if (t.kind === 'missing') op.set('status', ST.bad_domain);
  else if (t.kind === 'denied') op.set('status', ST.permission_denied);
  else {
    const nr = ctx.dom.domains.with(t.kind === 'other' ? t.domid : ctx.dom.domid, 0, (h) => h.shared.grants.nrFrames);
    op.set('nr_frames', nr);
    op.set('max_nr_frames', MAX_FRAMES);
    op.set('status', ST.okay);
  }
  op.writeBack();
  return 0n;
}

/**
 * Version 2 is not offered: asking for it answers -ENOSYS, as Xen does when booted with
 * gnttab=max-ver:1 (Linux then stays on v1). The version in effect (1) is always written back.
 */
function setVersion(ctx: HypercallContext, uop: bigint): bigint {
  const op = new GuestStruct(ctx, uop, GnttabSetVersion);
  const want = op.get('version');
  const rc = want === 1 ? 0n : want === 2 ? neg('ENOSYS') : neg('EINVAL');
  op.set('version', ctx.dom.shared.grants.version);
  op.writeBack();
  return rc;
}

function getVersion(ctx: HypercallContext, uop: bigint): bigint {
  const op = new GuestStruct(ctx, uop, GnttabGetVersion);
  const t = target(ctx, op.get('dom'));
  if (t.kind === 'missing') return neg('ESRCH');
  if (t.kind === 'denied') return neg('EPERM');
  op.set('version', ctx.dom.domains.with(t.kind === 'other' ? t.domid : ctx.dom.domid, 1, (h) => h.shared.grants.version));
  op.writeBackField('version');
  return 0n;
}

/** Swap two of the caller's entries; a pinned entry answers GNTST_eagain. */
function swapOps(ctx: HypercallContext, uop: bigint, count: number): bigint {
  return eachOp(ctx, uop, count, GnttabSwapGrantRef, (op) => {
    const a = op.get('ref_a');
    const b = op.get('ref_b');
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
          const tmp = self.u8.slice(oa, oa + GrantEntryV1.size);
          self.u8.copyWithin(oa, ob, ob + GrantEntryV1.size);
          self.u8.set(tmp, ob);
        }
      }
    } finally {
      gs.unlock();
    }
    op.set('status', status);
    op.writeBackField('status');
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
