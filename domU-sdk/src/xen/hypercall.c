/* hypercall.c: find Xen's CPUID leaves and install the hypercall page. */
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/console.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/string.h>

uint8_t pvkvm_hypercall_page[4096] __attribute__((aligned(4096)));
uint32_t pvkvm_xen_cpuid_base;

_Static_assert(PVKVM_HYPERCALL_STUB_SIZE * 128 == sizeof(pvkvm_hypercall_page),
               "128 stubs fill the page");

static uint32_t find_xen_leaves(void) {
  for (uint32_t base = XEN_CPUID_FIRST_LEAF; base < XEN_CPUID_FIRST_LEAF + 0x10000; base += 0x100) {
    struct cpuid_regs r = cpuid(base, 0);
    if (r.ebx == XEN_CPUID_SIGNATURE_EBX && r.ecx == XEN_CPUID_SIGNATURE_ECX &&
        r.edx == XEN_CPUID_SIGNATURE_EDX && r.eax - base >= 2)
      return base;
  }
  return 0;
}

/* Without Xen every stub is `mov $-XEN_ENOSYS, %rax; ret`, so hypercalls fail cleanly. */
static void fill_fallback_page(void) {
  int32_t ret = -XEN_ENOSYS;
  memset(pvkvm_hypercall_page, 0xcc, sizeof(pvkvm_hypercall_page));
  for (unsigned nr = 0; nr < sizeof(pvkvm_hypercall_page) / PVKVM_HYPERCALL_STUB_SIZE; nr++) {
    uint8_t *s = pvkvm_hypercall_page + nr * PVKVM_HYPERCALL_STUB_SIZE;
    s[0] = 0x48; /* REX.W */
    s[1] = 0xc7; /* mov $imm32 (sign-extended), %rax */
    s[2] = 0xc0;
    memcpy(s + 3, &ret, 4);
    s[7] = 0xc3; /* ret */
  }
}

static int page_is_blank(void) {
  for (unsigned i = 0; i < sizeof(pvkvm_hypercall_page); i++)
    if (pvkvm_hypercall_page[i]) return 0;
  return 1;
}

void pvkvm_hypercall_init(void) {
  uint32_t base = find_xen_leaves();
  if (!base) {
    fill_fallback_page();
    return;
  }
  uint32_t msr = cpuid(base + 2, 0).ebx;
  wrmsr(msr, (uint64_t)(uintptr_t)pvkvm_hypercall_page);
  if (page_is_blank()) {
    fill_fallback_page();
    static const char msg[] = "pvkvm: hypervisor did not fill the hypercall page\n";
    debugcon_write(msg, sizeof(msg) - 1);
    return;
  }
  pvkvm_xen_cpuid_base = base;
}

long pvkvm_hvm_get_param(uint32_t index, uint64_t *value) {
  struct xen_hvm_param p = {0};
  p.domid = DOMID_SELF;
  p.index = index;
  long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
  if (rc == 0 && value) *value = p.value;
  return rc;
}

long pvkvm_hvm_set_param(uint32_t index, uint64_t value) {
  struct xen_hvm_param p = {0};
  p.domid = DOMID_SELF;
  p.index = index;
  p.value = value;
  return HYPERVISOR_hvm_op(HVMOP_set_param, &p);
}
