// memory-op.ts: hypercall 12, memory_op — memory map, reservations and ballooning, gpfn limits,
// add_to_physmap.
import { HC } from '../../abi/hypercalls.ts';
import {
  XENMEM, MEMOP, XENMAPSPACE, XenAddToPhysmap, XenAddToPhysmap32, XenMemoryMap, XenMemoryMap32, XenMemoryDomain,
  E820Entry,
} from '../../abi/memory.ts';
import { writeField } from '../../abi/layout.ts';
import { neg } from '../../abi/errno.ts';
import { selfDomid, type HypercallContext } from './context.ts';
import { GuestStruct, byMode } from './guest-struct.ts';
import type { HypercallTable } from './table.ts';
import { placeSharedInfo } from './shared-info-page.ts';
import { placeGrantFrame } from '../grants/table.ts';
import { reservationOp, startExtentOf } from './memory-reservation.ts';

const M = XENMEM.values;

/** Structs holding a xen_pfn_t or a handle: 4 bytes of it for 32-bit callers. */
const MEMORY_MAP = byMode(XenMemoryMap, XenMemoryMap32);
const ADD_TO_PHYSMAP = byMode(XenAddToPhysmap, XenAddToPhysmap32);

/** The xen_memory_domain argument of the reservation queries; null when it names the caller. */
function domidArg(ctx: HypercallContext, arg: bigint): bigint | null {
  return selfDomid(ctx, new GuestStruct(ctx, arg, XenMemoryDomain).get('domid'));
}

/** XENMEM_memory_map: copy out as many packed E820 records as the caller has room for. */
function memoryMap(ctx: HypercallContext, arg: bigint): bigint {
  const map = new GuestStruct(ctx, arg, MEMORY_MAP);
  const capacity = map.get('nr_entries');
  const buffer = map.getBig('buffer');
  const entries = ctx.dom.memmap;
  const n = Math.min(capacity, entries.length);
  const out = new DataView(new ArrayBuffer(n * E820Entry.size));
  entries.slice(0, n).forEach((e, i) => {
    const base = i * E820Entry.size;
    writeField(out, base, E820Entry, 'addr', BigInt(e.addr));
    writeField(out, base, E820Entry, 'size', BigInt(e.size));
    writeField(out, base, E820Entry, 'type', e.type);
  });
  if (n > 0) ctx.guest.writeView(buffer, out);
  map.set('nr_entries', n);
  map.writeBackField('nr_entries');
  return 0n;
}

/**
 * XENMEM_add_to_physmap. A 32-bit caller's struct is the i386 layout (idx and gpfn are 4-byte
 * xen_ulong_t / xen_pfn_t): reading it as the 64-bit one made idx = idx | gpfn << 32, so
 * placing shared_info or a grant frame failed with -EINVAL.
 */
function addToPhysmap(ctx: HypercallContext, arg: bigint): bigint {
  const xatp = new GuestStruct(ctx, arg, ADD_TO_PHYSMAP);
  const bad = selfDomid(ctx, xatp.get('domid'));
  if (bad !== null) return bad;
  const idx = xatp.getBig('idx');
  const gpfn = xatp.getBig('gpfn');
  switch (xatp.get('space')) {
    case XENMAPSPACE.values.shared_info:
      if (idx !== 0n) return neg('EINVAL');
      return placeSharedInfo(ctx, gpfn);
    case XENMAPSPACE.values.grant_table:
      return placeGrantFrame(ctx.dom, idx, gpfn);
    case XENMAPSPACE.values.gmfn_foreign:
      // Only valid through the batch variant.
      return neg('EINVAL');
    default:
      // gmfn/gmfn_range moves are not supported.
      return neg('ENOSYS');
  }
}

export function memoryOp(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = Number(args[0]! & BigInt(MEMOP.values.CMD_MASK));
  const arg = args[1]!;
  const ramPages = BigInt(Math.floor(ctx.dom.ramBytes / 4096));
  switch (cmd) {
    case M.memory_map:
      return memoryMap(ctx, arg);
    case M.increase_reservation:
    case M.decrease_reservation:
    case M.populate_physmap:
      return reservationOp(ctx, cmd, startExtentOf(args[0]!), arg);
    case M.current_reservation:
      return domidArg(ctx, arg) ?? BigInt(ctx.dom.balloon.currentPages());
    case M.maximum_reservation:
      return domidArg(ctx, arg) ?? BigInt(ctx.dom.maxPages);
    case M.maximum_ram_page:
      return ramPages - 1n;
    case M.maximum_gpfn:
      return domidArg(ctx, arg) ?? BigInt(ctx.dom.maxGpfn());
    case M.add_to_physmap:
      return addToPhysmap(ctx, arg);
    default:
      // Includes XENMEM_machphys_mapping (12), which HVM guests must see as -ENOSYS.
      return neg('ENOSYS');
  }
}

export function registerMemoryOp(table: HypercallTable): void {
  table.register(HC.memory_op, 'memory_op', memoryOp);
}
