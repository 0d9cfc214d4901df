/*
 * hvmparam: HVMOP_get_param/set_param access rules, HVMOP_get_time, and mapping shared_info
 * with XENMEM_add_to_physmap (in RAM and beyond it), vm_assist and flush_tlbs.
 */
#include <pvkvm/pvkvm.h>

/* A RAM page of our own to put shared_info at; nothing else lives in it. */
static uint8_t shared_page[4096] __attribute__((aligned(4096)));

static long get_time(uint64_t *now) {
  struct xen_hvm_get_time t = {0};
  long rc = HYPERVISOR_hvm_op(HVMOP_get_time, &t);
  *now = t.now;
  return rc;
}

int main(void) {
  REQUIRE_XEN();
  uint64_t v;
  CHECK_EQ(pvkvm_hvm_get_param(HVM_PARAM_CONSOLE_PFN, &v), 0);
  printf("console pfn %#llx\n", (unsigned long long)v);
  CHECK_EQ(pvkvm_hvm_get_param(HVM_PARAM_STORE_PFN, &v), 0);
  printf("xenstore pfn %#llx\n", (unsigned long long)v);
  CHECK_EQ(pvkvm_hvm_get_param(HVM_PARAM_CONSOLE_EVTCHN, &v), 0);
  printf("console evtchn %llu\n", (unsigned long long)v);
  CHECK_EQ(pvkvm_hvm_get_param(HVM_PARAM_STORE_EVTCHN, &v), 0);
  printf("xenstore evtchn %llu\n", (unsigned long long)v);

  CHECK_EQ(pvkvm_hvm_set_param(HVM_PARAM_STORE_PFN, 0x1234), -XEN_EPERM);
  CHECK_EQ(pvkvm_hvm_set_param(HVM_PARAM_CONSOLE_PFN, 0x1234), -XEN_EPERM);
  CHECK_EQ(pvkvm_hvm_get_param(HVM_PARAM_IOREQ_PFN, &v), -XEN_EPERM);
  CHECK_EQ(pvkvm_hvm_get_param(4, &v), -XEN_EINVAL); /* deprecated index */
  CHECK_EQ(pvkvm_hvm_set_param(4, 1), -XEN_EINVAL);
  CHECK_EQ(pvkvm_hvm_get_param(39, &v), -XEN_EINVAL); /* HVM_NR_PARAMS: out of range */
  CHECK_EQ(pvkvm_hvm_set_param(39, 1), -XEN_EINVAL);

  /* Callback via vector 0xF3 (as Linux uses). Interrupts stay off, so nothing is delivered. */
  const uint64_t callback = (2ULL << 56) | 0xf3;
  CHECK_EQ(pvkvm_hvm_set_param(HVM_PARAM_CALLBACK_IRQ, callback), 0);
  v = 0;
  CHECK_EQ(pvkvm_hvm_get_param(HVM_PARAM_CALLBACK_IRQ, &v), 0);
  CHECK_EQ(v, callback);
  CHECK_EQ(pvkvm_hvm_set_param(HVM_PARAM_CALLBACK_IRQ, 0), 0);

  uint64_t t1 = 0, t2 = 0;
  CHECK_EQ(get_time(&t1), 0);
  for (volatile int i = 0; i < 100000; i++) {}
  CHECK_EQ(get_time(&t2), 0);
  printf("get_time: %llu then %llu ns\n", (unsigned long long)t1, (unsigned long long)t2);
  CHECK(t1 != 0);
  CHECK(t2 > t1);

  /* Map shared_info over our page: it replaces the RAM page there. */
  memset(shared_page, 0xaa, sizeof(shared_page));
  struct xen_add_to_physmap xatp = {0};
  xatp.domid = DOMID_SELF;
  xatp.space = XENMAPSPACE_shared_info;
  xatp.idx = 0;
  xatp.gpfn = (uintptr_t)shared_page >> 12;
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), 0);
  const volatile struct shared_info *s = (const volatile struct shared_info *)shared_page;
  int still_pattern = 1;
  for (unsigned i = 0; i < sizeof(shared_page); i++)
    if (((const volatile uint8_t *)shared_page)[i] != 0xaa) still_pattern = 0;
  CHECK(!still_pattern);
  printf("shared_info: wc_version %u, wc_sec %u, vcpu0 time version %u, system_time %llu\n",
         s->wc_version, s->wc_sec, s->vcpu_info[0].time.version,
         (unsigned long long)s->vcpu_info[0].time.system_time);
  CHECK_EQ(s->wc_version & 1, 0);

  xatp.idx = 1; /* shared_info has one frame */
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL);

  /*
   * Move shared_info to a frame beyond RAM (below the special pages, inside our identity map):
   * the hypervisor must back it with a new memory slot, and the contents move with it.
   */
  ((volatile struct shared_info *)shared_page)->vcpu_info[0].arch_cr2 = 0x1234abcd; /* recognisable after the move */
  xatp.idx = 0;
  xatp.gpfn = 0xf0000;
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), 0);
  const volatile struct shared_info *moved = (const volatile struct shared_info *)(uintptr_t)0xf0000000ULL;
  CHECK_EQ(moved->vcpu_info[0].arch_cr2, 0x1234abcd);
  CHECK_EQ(moved->wc_version & 1, 0);
  CHECK(moved->wc_version != 0);
  uint64_t max_gpfn = HYPERVISOR_memory_op(XENMEM_maximum_gpfn, &(uint16_t){DOMID_SELF});
  printf("maximum_gpfn after the move: %#llx\n", (unsigned long long)max_gpfn);
  CHECK(max_gpfn >= 0xfefff);
  /* A frame number no memory slot can reach is refused. */
  xatp.gpfn = 1ULL << 40;
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL);
  /* Another domain's id is refused. */
  xatp.gpfn = 0xf0000;
  xatp.domid = 5;
  CHECK(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp) < 0);

  /* vm_assist: HVM guests may toggle only runstate_update_flag. */
  CHECK_EQ(hypercall2(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag), 0);
  CHECK_EQ(hypercall2(__HYPERVISOR_vm_assist, VMASST_CMD_disable, VMASST_TYPE_runstate_update_flag), 0);
  CHECK_EQ(hypercall2(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), -XEN_EINVAL);
  CHECK_EQ(hypercall2(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 64), -XEN_EINVAL);
  CHECK_EQ(hypercall2(__HYPERVISOR_vm_assist, 7, VMASST_TYPE_runstate_update_flag), -XEN_ENOSYS);

  /* HVMOP_flush_tlbs takes a NULL argument only; unknown HVM ops are -ENOSYS. */
  CHECK_EQ(HYPERVISOR_hvm_op(HVMOP_flush_tlbs, NULL), 0);
  CHECK_EQ(HYPERVISOR_hvm_op(HVMOP_flush_tlbs, shared_page), -XEN_EINVAL);
  CHECK_EQ(HYPERVISOR_hvm_op(200, NULL), -XEN_ENOSYS);
  test_done();
}
