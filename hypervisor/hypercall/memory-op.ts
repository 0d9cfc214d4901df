// memory-op.ts: hypercall 12, memory_op — memory map, reservations, gpfn limits, add_to_physmap.
import { HC } from '../../abi/hypercalls.ts';
import { XENMEM, MEMOP, XENMAPSPACE, XenAddToPhysmap, XenMemoryMap, E820Entry } from '../../abi/memory.ts';
import { readNum, writeField } from '../../abi/layout.ts';
import { neg } from '../../abi/errno.ts';
import { selfDomid, type HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';
import { placeSharedInfo } from './shared-info-page.ts';
import { placeGrantFrame } from '../grants/table.ts';

const M = XENMEM.values;

/** Read the domid_t argument of the reservation queries; null when it names the caller. */
function domidArg(ctx: HypercallContext, arg: bigint): bigint | null {
  const domid = ctx.guest.readView(arg, 2).getUint16(0, true);
  return selfDomid(ctx, domid);
}

/** XENMEM_memory_map: copy out as many packed E820 records as the caller has room for. */
function memoryMap(ctx: HypercallContext, arg: bigint): bigint {
  // The handle is a pointer-sized field: 8 bytes at offset 8 (64-bit), 4 bytes at 4 (compat).
  const compat = ctx.mode === 32;
  const hdrLen = compat ? 8 : XenMemoryMap.size;
  const v = ctx.guest.readView(arg, hdrLen);
  const capacity = v.getUint32(0, true);
  const buffer = compat ? BigInt(v.getUint32(4, true)) : v.getBigUint64(8, true);
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
  v.setUint32(0, n, true);
  ctx.guest.write(arg, new Uint8Array(v.buffer, 0, 4));
  return 0n;
}

function addToPhysmap(ctx: HypercallContext, arg: bigint): bigint {
  const v = ctx.guest.readView(arg, XenAddToPhysmap.size);
  const bad = selfDomid(ctx, readNum(v, 0, XenAddToPhysmap, 'domid'));
  if (bad !== null) return bad;
  const space = readNum(v, 0, XenAddToPhysmap, 'space');
  const idx = v.getBigUint64(XenAddToPhysmap.byName.idx.offset, true);
  const gpfn = v.getBigUint64(XenAddToPhysmap.byName.gpfn.offset, true);
  switch (space) {
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
    case M.current_reservation:
    case M.maximum_reservation:
      return domidArg(ctx, arg) ?? ramPages;
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
