/*
 * cpl3: a hypercall made from ring 3 must fail with -XEN_EPERM (Xen checks the caller's CPL).
 * The ring-3 code runs with IOPL 3, and the TSS I/O bitmap also grants the trap port, so the
 * port-I/O trap reaches the hypervisor instead of raising #GP in the guest; ud2 brings it back
 * to ring 0 through the IDT (and the TSS's RSP0). If the CPU still raises #GP on the trap (this
 * host's KVM may not honour IOPL or the bitmap for the guest), ring 3 cannot reach the hypervisor
 * at all and the test reports SKIP.
 *
 * It builds its own ring 3 (TSS, page permissions, IOPL), so it runs the SDK at CPL 0; the
 * privsep guest checks the same refusal from the SDK's own CPL 3.
 */
#include <pvkvm/pvkvm.h>

PVKVM_SDK_MODE(kernel);

#define SEL_TSS 0x30
#define PTE_USER 0x4

long run_user(void (*code)(void), void *user_stack);
void run_user_resume(void);
void user_hypercall(void);
void user_probe(void);
extern unsigned long user_stub;
extern uint64_t pvkvm_gdt[];

struct __attribute__((packed)) tss64 {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;
  /* I/O permission bitmap up to the trap port, then the required all-ones byte. */
  uint8_t iomap[PVKVM_HYPERCALL_TRAP_PORT / 8 + 1];
  uint8_t iomap_end;
};

static struct tss64 tss __attribute__((aligned(16)));
static uint8_t kernel_stack[16384] __attribute__((aligned(16)));
static uint8_t user_stack[16384] __attribute__((aligned(16)));

static void install_tss(void) {
  uint64_t base = (uintptr_t)&tss;
  uint32_t limit = sizeof(tss) - 1;
  tss.rsp[0] = (uintptr_t)(kernel_stack + sizeof(kernel_stack));
  /* Ring 3 may use the hypercall trap port (and no other), whatever IOPL the CPU honours. */
  tss.iomap_base = __builtin_offsetof(struct tss64, iomap);
  memset(tss.iomap, 0xff, sizeof(tss.iomap));
  tss.iomap[PVKVM_HYPERCALL_TRAP_PORT / 8] &= (uint8_t)~(1u << (PVKVM_HYPERCALL_TRAP_PORT % 8));
  tss.iomap_end = 0xff;
  pvkvm_gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
                           ((uint64_t)(limit >> 16) << 48) | (((base >> 24) & 0xff) << 56);
  pvkvm_gdt[SEL_TSS / 8 + 1] = base >> 32;
  __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

/* Let ring 3 reach the first 2 MiB (the SDK's kernel page, with the hypercall page); the rest of
 * the image is user-accessible already. */
static void allow_user_low_2mib(void) {
  uint64_t *pml4 = (uint64_t *)(uintptr_t)(read_cr3() & ~0xfffULL);
  uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & ~0xfffULL);
  uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[0] & ~0xfffULL);
  pml4[0] |= PTE_USER;
  pdpt[0] |= PTE_USER;
  pd[0] |= PTE_USER;
  __asm__ volatile("mov %0, %%cr3" : : "r"(read_cr3()) : "memory");
}

/* What run_user returns when the trap instruction itself raised #GP in ring 3. */
#define TRAP_FAULTED 0x6b6b6b6bL

static int user_trap(struct pvkvm_trap_frame *f) {
  if ((f->cs & 3) != 3) return 0; /* not ours: report and crash */
  int in_page = f->rip - (uintptr_t)pvkvm_hypercall_page < sizeof(pvkvm_hypercall_page);
  if (f->vector == 13 && in_page) f->rax = TRAP_FAULTED;
  else if (f->vector != 6) return 0;
  f->rip = (uintptr_t)run_user_resume;
  f->cs = PVKVM_SEL_CODE64;
  f->ss = PVKVM_SEL_DATA;
  f->rflags = 0x2;
  /* RAX already holds the user's result; RSP is restored by run_user_resume. */
  f->rsp = (uintptr_t)(kernel_stack + sizeof(kernel_stack));
  return 1;
}

int main(void) {
  install_tss();
  allow_user_low_2mib();
  pvkvm_set_trap_hook(user_trap);

  long r = run_user(user_probe, user_stack + sizeof(user_stack));
  printf("ring 3 probe returned %#lx\n", r);
  REQUIRE(r == 0x1234);

  REQUIRE_XEN();
  user_stub = pvkvm_hypercall_stub(__HYPERVISOR_xen_version);
  r = run_user(user_hypercall, user_stack + sizeof(user_stack));
  if (r == TRAP_FAULTED) test_skip("the hypercall trap raises #GP in ring 3 on this CPU");
  printf("xen_version from ring 3 returned %ld\n", r);
  CHECK_EQ(r, -XEN_EPERM);
  /* Ring 0 still works. */
  CHECK(HYPERVISOR_xen_version(XENVER_version, NULL) > 0);
  test_done();
}
