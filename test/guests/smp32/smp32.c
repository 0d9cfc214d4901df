/*
 * smp32: VCPUOP_initialise with a 32-bit (mode 32B) vcpu_hvm_context. vCPU 1 starts in 32-bit
 * protected mode with paging off at ap32_entry (ap32.S), with flat segments and ESI/ESP from the
 * context, and reports them back; malformed 32B contexts (CR0.PE clear, CS not present, CS a data
 * segment, SS read-only, TR not a busy TSS, G set with a short limit) get -EINVAL. Needs --vcpus 3.
 */
#include <pvkvm/pvkvm.h>

/* Builds its own vCPU contexts with VCPUOP_initialise, which the SDK's kernel keeps to itself
 * when guests run at CPL 3. */
PVKVM_SDK_MODE(kernel);

extern void ap32_entry(void);
volatile uint32_t ap32_done, ap32_esi, ap32_esp, ap32_cs;
static uint8_t ap_stack[4096] __attribute__((aligned(16)));

#define AR_CODE32 0xc9b /* type 0xb (exec/read, accessed), S, P, D/B, G */
#define AR_DATA32 0xc93 /* type 0x3 (read/write, accessed), S, P, D/B, G */
#define AR_TSS32 0x08b  /* type 0xb (busy 32-bit TSS), P */

struct ctx32 {
  uint32_t mode;
  uint32_t pad;
  struct vcpu_hvm_x86_32 r;
};
_Static_assert(sizeof(struct ctx32) == 128, "vcpu_hvm_context with the 32-bit register set");

static void fill(struct ctx32 *c) {
  memset(c, 0, sizeof(*c));
  c->mode = VCPU_HVM_MODE_32B;
  c->r.eip = (uint32_t)(uintptr_t)ap32_entry;
  c->r.esp = (uint32_t)(uintptr_t)&ap_stack[sizeof(ap_stack)];
  c->r.esi = 0x5a5a1234;
  c->r.eflags = 2;
  c->r.cr0 = 0x11; /* PE, ET */
  c->r.cs_limit = c->r.ds_limit = c->r.ss_limit = c->r.es_limit = 0xffffffff;
  c->r.cs_ar = AR_CODE32;
  c->r.ds_ar = c->r.ss_ar = c->r.es_ar = AR_DATA32;
  c->r.tr_limit = 0x67;
  c->r.tr_ar = AR_TSS32;
}

static long vcpu_op(int cmd, unsigned vcpu, void *arg) { return HYPERVISOR_vcpu_op(cmd, (int)vcpu, arg); }

int main(void) {
  REQUIRE_XEN();
  if (pvkvm_nr_vcpus() < 3) test_skip("needs --vcpus 3");
  struct ctx32 c;

  /* Malformed 32-bit contexts, on vCPU 2, each refused and leaving it uninitialised. */
  fill(&c); c.r.cr0 = 0;                 CHECK_EQ(vcpu_op(VCPUOP_initialise, 2, &c), -XEN_EINVAL);
  fill(&c); c.r.cs_ar = AR_CODE32 & ~0x80; CHECK_EQ(vcpu_op(VCPUOP_initialise, 2, &c), -XEN_EINVAL);
  fill(&c); c.r.cs_ar = AR_DATA32;       CHECK_EQ(vcpu_op(VCPUOP_initialise, 2, &c), -XEN_EINVAL);
  fill(&c); c.r.ss_ar = 0xc91;           CHECK_EQ(vcpu_op(VCPUOP_initialise, 2, &c), -XEN_EINVAL);
  fill(&c); c.r.tr_ar = 0x089;           CHECK_EQ(vcpu_op(VCPUOP_initialise, 2, &c), -XEN_EINVAL);
  fill(&c); c.r.ds_limit = 0xfffff000;   CHECK_EQ(vcpu_op(VCPUOP_initialise, 2, &c), -XEN_EINVAL);
  CHECK_EQ(vcpu_op(VCPUOP_up, 2, NULL), -XEN_EINVAL); /* still never initialised */

  /* vCPU 1 in 32-bit protected mode. */
  fill(&c);
  CHECK_EQ(vcpu_op(VCPUOP_initialise, 1, &c), 0);
  CHECK_EQ(vcpu_op(VCPUOP_initialise, 1, &c), -XEN_EEXIST);
  CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), 0);
  uint64_t deadline = pvkvm_time_ns() + 20000000000ull;
  while (!__atomic_load_n(&ap32_done, __ATOMIC_ACQUIRE) && pvkvm_time_ns() < deadline) HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
  if (!CHECK_EQ(ap32_done, 1)) test_exit(TEST_FAILURE);
  printf("vCPU 1 ran 32-bit code: esi=%#x esp=%#x cs=%#x\n", ap32_esi, ap32_esp, ap32_cs);
  CHECK_EQ(ap32_esi, 0x5a5a1234);
  CHECK_EQ(ap32_esp, (uint32_t)(uintptr_t)&ap_stack[sizeof(ap_stack)]);
  CHECK_EQ(vcpu_op(VCPUOP_is_up, 1, NULL), 1);
  test_exit(test_failures ? TEST_FAILURE : TEST_SUCCESS);
}
