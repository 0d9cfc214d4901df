// page.ts: the contents of the hypercall page pvkvm writes when a guest asks for it.
//
// Xen's stubs are `mov eax, nr; vmcall; ret`. This KVM cannot intercept VMCALL, so ours trap with
// an `out` to PVKVM_HYPERCALL_TRAP_PORT instead; the same 32-byte spacing keeps guests that call
// `page + nr*32` working unmodified. The rest of the page is int3, and byte 0 is never `ret`.
import { HYPERCALL_PAGE, HC } from '../../abi/hypercalls.ts';

export function buildHypercallPage(): Uint8Array {
  const { STUB_SIZE, NR_STUBS, TRAP_PORT } = HYPERCALL_PAGE.values;
  const page = new Uint8Array(4096).fill(0xcc);
  for (let nr = 0; nr < NR_STUBS; nr++) {
    const o = nr * STUB_SIZE;
    if (nr === HC.iret) {
      page.set([0x0f, 0x0b], o); // ud2: HVM guests must never use the PV iret hypercall
      continue;
    }
    page.set([0xb8, nr & 0xff, (nr >> 8) & 0xff, 0, 0], o); // mov eax, imm32
    page.set([0xe6, TRAP_PORT], o + 5); // out imm8, al
    page[o + 7] = 0xc3; // ret
  }
  return page;
}
