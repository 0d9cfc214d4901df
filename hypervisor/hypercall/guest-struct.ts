// guest-struct.ts: one hypercall argument struct in guest memory, read once through its abi/
// layout (no double fetch: every check and use sees the same copy) and written back whole.
import { readNum, writeField, type StructDef } from '../../abi/layout.ts';
import type { HypercallContext } from './context.ts';

export class GuestStruct<N extends string> {
  private readonly v: DataView;

  constructor(private readonly ctx: HypercallContext, private readonly ptr: bigint, private readonly s: StructDef<N>) {
    this.v = ctx.guest.readView(ptr, s.size);
  }

  get(name: N): number { return readNum(this.v, 0, this.s, name); }
  set(name: N, value: number | bigint): void { writeField(this.v, 0, this.s, name, value); }
  /** Copy the (updated) struct back to the guest; a fault here is -EFAULT like the read. */
  writeBack(): void { this.ctx.guest.writeView(this.ptr, this.v); }
}
