// ring.ts: the shared ring of Xen's split drivers (io/ring.h) — its 64-byte index header, how many
// entries a ring holds, ring-entry unions — and the names of the two x86 ring ABIs (io/protocols.h).
import { defineStrings, defineStruct, type StructDef } from '../layout.ts';

/**
 * The head of every shared ring page: free-running u32 producer indices and the "notify me when
 * the peer's producer passes this" event indices, padded so that the entries start at byte 64.
 * Bytes 16..63 are padding here: Xen 4.17 names four of them `pvt` (an old netif/tapif flag),
 * newer headers fold them into `__pad`; no pvkvm device uses them.
 */
export const SringHeader = defineStruct('xen_sring_header', 64, [
  ['req_prod', 0, 'u32'], ['req_event', 4, 'u32'], ['rsp_prod', 8, 'u32'], ['rsp_event', 12, 'u32'],
], { xenName: null });

/** The frontend's `protocol` key names the layout of the ring entries (absent: the native one). */
export const XEN_IO_PROTO = defineStrings('Ring ABI names (the frontend\'s "protocol" key)', 'XEN_IO_PROTO_ABI_', {
  X86_32: 'x86_32-abi',
  X86_64: 'x86_64-abi',
});

export type RingProtocol = (typeof XEN_IO_PROTO.values)[keyof typeof XEN_IO_PROTO.values];
export const RING_PROTOCOLS: readonly RingProtocol[] = Object.values(XEN_IO_PROTO.values);

/** Which ABI a ring's entry structs follow: in x86_32 a u64 is only 4-byte aligned. */
export type RingAbi = 'x86_64' | 'x86_32';

/** One ring-entry union: `union NAME_sring_entry { members }` and the ring structs around it. */
export interface RingDef {
  readonly kind: 'ring';
  /** C stem: union NAME_sring_entry, struct NAME_sring / NAME_front_ring / NAME_back_ring. */
  readonly name: string;
  /** Stem of the same ring in Xen's headers (DEFINE_RING_TYPES(xenName, ...)), or null. */
  readonly xenName: string | null;
  readonly abi: RingAbi;
  /** Union members as [member name, struct]; Xen's union has `req` and `rsp`, ours may add more views. */
  readonly members: readonly (readonly [string, StructDef])[];
  /** Bytes of one entry: the largest member, rounded up to the union's alignment. */
  readonly entrySize: number;
}

function abiAlign(s: StructDef, abi: RingAbi): number {
  return abi === 'x86_32' ? Math.min(s.align, 4) : s.align;
}

export function defineRing(
  name: string, abi: RingAbi, members: readonly (readonly [string, StructDef])[],
  opts: { xenName?: string | null } = {},
): RingDef {
  if (members.length === 0) throw new Error(`abi: ring ${name} has no members`);
  const align = Math.max(...members.map(([, s]) => abiAlign(s, abi)));
  const biggest = Math.max(...members.map(([, s]) => s.size));
  const entrySize = Math.ceil(biggest / align) * align;
  return { kind: 'ring', name, xenName: opts.xenName === undefined ? name : opts.xenName, abi, members, entrySize };
}

/**
 * Entries in a shared ring of `bytes` bytes (1 << order pages) whose entries are `entrySize` bytes:
 * the largest power of two that fits after the header, so that `idx & (size - 1)` picks the slot.
 * 0 when not even one entry fits.
 */
export function ringEntries(bytes: number, entrySize: number): number {
  const n = Math.floor((bytes - SringHeader.size) / entrySize);
  if (n < 1) return 0;
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/** Marks the module whose header carries the ring macros (DEFINE_RING_TYPES and friends). */
export interface RingMacros {
  readonly kind: 'ring-macros';
  readonly header: typeof SringHeader;
}

export const RING_MACROS: RingMacros = { kind: 'ring-macros', header: SringHeader };
