// page.ts: the contents of the hypercall page pvkvm writes when a guest asks for it.
//
// Xen's stubs are `mov eax, nr; vmcall; ret`. This KVM cannot intercept VMCALL, so ours trap with
// an `out` to PVKVM_HYPERCALL_TRAP_PORT instead; the same 32-byte spacing keeps guests that call
// `page + nr*32` working unmodified. The rest of the page is int3, and byte 0 is never `ret`.
import { HYPERCALL_PAGE, HC } from '../../abi/hypercalls.ts';
import { EVTCHNOP } from '../../abi/event-channel.ts';

export function buildHypercallPage(mode: 64 | 32 = 32): Uint8Array {
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
  if (mode === 64) page.set(fastEventChannelStub(), HC.event_channel_op * STUB_SIZE);
  return page;
}

/**
 * 64-bit event_channel_op stub with the EVTCHNOP_send fast path (docs/performance.md §3): the port number goes
 * out on SEND_PORT. A port wired to an ioeventfd completes in the kernel and leaves RDI = 0; any
 * other port exits to user space, where pvkvm performs the send and puts the result in RDI.
 *
 *   cmp edi, EVTCHNOP_send ; jne slow
 *   mov eax, [rsi]          ; the port (the guest's own struct, read by the guest)
 *   xor edi, edi            ; status 0 unless user space says otherwise
 *   out SEND_PORT, eax
 *   mov rax, rdi ; ret
 *   slow: mov eax, 32 ; out TRAP_PORT, al ; ret
 */
function fastEventChannelStub(): number[] {
  const { TRAP_PORT, SEND_PORT } = HYPERCALL_PAGE.values;
  const fast = [0x8b, 0x06, 0x31, 0xff, 0xe7, SEND_PORT, 0x48, 0x89, 0xf8, 0xc3];
  const slow = [0xb8, HC.event_channel_op, 0, 0, 0, 0xe6, TRAP_PORT, 0xc3];
  return [0x83, 0xff, EVTCHNOP.values.send, 0x75, fast.length, ...fast, ...slow];
}
