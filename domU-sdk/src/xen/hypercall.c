/* hypercall.c: what user code knows of the hypercall interface (the kernel installs the page,
 * src/kernel/hcall.c), and the HVM param helpers. */
#include <stdint.h>
#include <pvkvm/hypercall.h>

uint32_t pvkvm_xen_cpuid_base; /* set by the kernel at boot */

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
