/*
 * kgate: regressions for hcfuzz findings in the SDK kernel's hypercall gate (user code at CPL 3
 * could crash or take over the guest kernel):
 *   - hypercall numbers 128..255 (past the page's 128 stubs, below the kernel's own calls) made
 *     the gate call `page + nr * 32`, running whatever followed the page at CPL 0;
 *   - __HYPERVISOR_iret, whose stub is `ud2`, was forwarded: a #UD in the kernel;
 *   - EVTCHNOP_send with a bad pointer: the fast stub reads the port itself at CPL 0, so a
 *     non-canonical or unmapped pointer was a #GP or #PF in the kernel.
 * Each must answer as Xen would (-ENOSYS, -EFAULT), and good calls must still work.
 */
#include <pvkvm/pvkvm.h>

int main(void) {
  REQUIRE_XEN();
  if (!pvkvm_at_cpl3()) test_skip("needs the SDK's CPL-3 mode");
  for (unsigned nr = PVKVM_HYPERCALL_NR_STUBS; nr < 0x100; nr++)
    CHECK_EQ(hypercall5(nr, 1, 2, 3, 4, 5), -XEN_ENOSYS);
  CHECK_EQ(hypercall5(__HYPERVISOR_iret, 0, 0, 0, 0, 0), -XEN_ENOSYS);
  CHECK_EQ(hypercall0(64), -XEN_ENOSYS); /* in the page, no handler: the hypervisor's answer */

  static const uint64_t bad[] = {0xdead00000000ull, 0x123400000000ull, 0xffff800000000000ull,
                                 0x100000ull /* the kernel */, 0xfffffffcull, 0};
  for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    CHECK_EQ(hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_send, bad[i]), -XEN_EFAULT);
  /* A port that is not ours, from a good pointer, on the fast path and at the end of RAM. */
  struct evtchn_send s = {.port = 4095};
  CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s) < 0);
  uint32_t *top = (uint32_t *)(uintptr_t)(pvkvm_ram_bytes() - 4);
  *top = 4095;
  CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_send, top) < 0);
  CHECK(HYPERVISOR_xen_version(XENVER_version, NULL) > 0);
  test_done();
}
