// guest-struct.ts: one hypercall argument struct in guest memory, read once through its abi/
// layout (no double fetch: every check and use sees the same copy) and written back whole or by field.
import { defineStruct, fieldSize, readField, readNum, writeField, type Scalar, type StructDef } from '../../abi/layout.ts';
import type { HypercallContext } from './context.ts';

/**
 * A struct's native (64-bit) and i386 (compat) layouts, with the same field names. The type makes a
 * compat layout that lacks one of the native fields a compile error.
 */
export interface ModeLayouts<N extends string> {
  readonly 64: StructDef<N>;
  readonly 32: StructDef<N>;
}

export function byMode<N extends string>(native: StructDef<N>, compat: StructDef<N>): ModeLayouts<N> {
  return { 64: native, 32: compat };
}

/** The layout a call in `ctx`'s calling convention uses. */
export function layoutFor<N extends string>(ctx: HypercallContext, layout: StructDef<N> | ModeLayouts<N>): StructDef<N> {
  return 'cName' in layout ? layout : layout[ctx.mode];
}

/** `count` scalars in a row (a guest array of ports or frame numbers), as a struct of one field. */
export function scalarArray(type: Scalar, count: number): StructDef<'e'> {
  return defineStruct(`${type}[${count}]`, fieldSize({ name: 'e', offset: 0, type, count }), [['e', 0, type, count]], { xenName: null });
}

export class GuestStruct<N extends string> {
  readonly layout: StructDef<N>;
  private readonly v: DataView;

  /** Read the struct at `ptr`; a ModeLayouts argument picks the layout by the calling mode. */
  constructor(private readonly ctx: HypercallContext, private readonly ptr: bigint, layout: StructDef<N> | ModeLayouts<N>, read = true) {
    this.layout = layoutFor(ctx, layout);
    this.v = read ? ctx.guest.readView(ptr, this.layout.size) : new DataView(new ArrayBuffer(this.layout.size));
  }

  /** A zeroed struct for an output-only argument: the guest's copy is written, never read. */
  static blank<N extends string>(ctx: HypercallContext, ptr: bigint, layout: StructDef<N> | ModeLayouts<N>): GuestStruct<N> {
    return new GuestStruct(ctx, ptr, layout, false);
  }

  /** The private copy, for code that takes the whole struct (e.g. a vCPU context to validate and store). */
  get view(): DataView { return this.v; }

  /** A field that fits a double (all but 64-bit addresses, frame numbers and times). */
  get(name: N, index = 0): number { return readNum(this.v, 0, this.layout, name, index); }
  /** Any field, exactly: for xen_ulong_t, xen_pfn_t, handles and u64s. */
  getBig(name: N, index = 0): bigint { return BigInt(readField(this.v, 0, this.layout, name, index)); }
  set(name: N, value: number | bigint, index = 0): void { writeField(this.v, 0, this.layout, name, value, index); }

  /** Copy the (updated) struct back to the guest; a fault here is -EFAULT like the read. */
  writeBack(): void { this.ctx.guest.writeView(this.ptr, this.v); }

  /** Copy back one field only (Xen's copy_field_to_guest): the guest's other bytes stay as they are. */
  writeBackField(name: N): void {
    const f = this.layout.byName[name];
    this.ctx.guest.writeView(this.ptr + BigInt(f.offset), new DataView(this.v.buffer, this.v.byteOffset + f.offset, fieldSize(f)));
  }
}
