/* compat32.h: the 32-bit hypercall helpers the compat32 guest's files share. */
#ifndef COMPAT32_H
#define COMPAT32_H
#include <pvkvm/pvkvm.h>

#define PAGE 4096u

long call32_hypercall(unsigned long stub, uint32_t a1, uint32_t a2, uint32_t a3);

/* A hypercall from 32-bit compatibility mode: EBX, ECX, EDX carry the arguments. */
static inline long hc32(unsigned nr, uint32_t a1, uint32_t a2, uint32_t a3) {
  return call32_hypercall(pvkvm_hypercall_stub(nr), a1, a2, a3);
}

/* Everything the 32-bit calls point at lies below 4 GiB (the image is linked at 1 MiB). */
static inline uint32_t p32(const volatile void *p) { return (uint32_t)(uintptr_t)p; }
static inline uint32_t gfn_of(const volatile void *p) { return (uint32_t)((uintptr_t)p >> 12); }

void test_event_channels32(domid_t self);
void test_sched_vcpu_time32(void);
void test_memory_and_grants32(void);
void test_xen_version32(void);
void test_sweep32(domid_t self);
#endif
