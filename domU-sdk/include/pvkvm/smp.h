/*
 * pvkvm/smp.h: secondary vCPUs (VCPUOP_initialise / up / down / is_up). Spinlocks are in
 * <pvkvm/lock.h> (included here).
 *
 *   static void worker(void *arg) { printf("hello from vCPU %u\n", pvkvm_vcpu_id()); }
 *   ...
 *   if (pvkvm_nr_vcpus() > 1) pvkvm_start_vcpu(1, worker, NULL);
 *
 * pvkvm_start_vcpu gives the vCPU a 16 KiB stack (a static slot per vCPU id) and has the SDK's
 * kernel VCPUOP_initialise it with a 64-bit vcpu_hvm_context that shares the kernel's paging (its
 * CR0, CR3, CR4 and EFER), then calls VCPUOP_up. The secondary enters the kernel
 * (src/kernel/smp_entry.S) with interrupts off: it loads the SDK's GDT (and reloads CS and the
 * data segments), its own TSS, GS bases and the IDT, and enters pvkvm_secondary_main on that
 * stack at the SDK's level (CPL 3 by default): its own local APIC is software-enabled, and if the
 * caller had registered an event-channel upcall (evtchn_init) the same mode is registered for the
 * new vCPU. Then fn(arg) runs, with interrupts still off. When fn returns, the vCPU parks: it calls VCPUOP_down on
 * itself in a loop; pvkvm_start_vcpu on a parked vCPU hands it the next function and ups it.
 *
 * Per-vCPU state in the SDK (event dispatch, upcall mode, timers, vcpu_info / pvclock) is indexed
 * by pvkvm_vcpu_id() (<pvkvm/evtchn.h>), which the kernel keeps in each vCPU's pvkvm_cpu. Each vCPU binds its own VIRQ_TIMER on first use (pvkvm_timer_init,
 * pvkvm_sleep_ns). Event-channel IPIs: evtchn_bind_ipi(k, &port) on any vCPU gives a port whose
 * handler runs on vCPU k; any vCPU may evtchn_send on it.
 *
 * SMP caveats: evtchn_set_handler is not atomic with respect to other vCPUs (install a handler
 * before events can arrive on its port); console output is serialised by a per-vCPU-recursive
 * lock, so a vCPU downed by another while printing would block the console.
 */
#ifndef PVKVM_SMP_H
#define PVKVM_SMP_H
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/lapic.h>
#include <pvkvm/lock.h>

#define PVKVM_SMP_STACK_SIZE 16384u

/* Number of vCPUs: VCPUOP_is_up on 0, 1, ... until -ENOENT (cached after the first call). 1 if
 * the hypervisor does not answer (e.g. no Xen). */
int pvkvm_nr_vcpus(void);

/* Thin VCPUOP wrappers: the hypercall's result (is_up: 1, 0 or -errno). */
long pvkvm_vcpu_is_up(unsigned vcpu);
long pvkvm_vcpu_up(unsigned vcpu);
/* VCPUOP_down. On this vCPU it returns only once someone has upped it again. */
long pvkvm_vcpu_down(unsigned vcpu);

/* Switch pvkvm_vcpu_id() to CPUID (done by pvkvm_start_vcpu; call it first if you start vCPUs
 * by hand with VCPUOP_initialise). Returns 0, or -XEN_ENOSYS without Xen or without the vCPU id
 * in CPUID leaf base+4 (XEN_HVM_CPUID_VCPU_ID_PRESENT). */
long pvkvm_smp_prepare(void);

/*
 * Run fn(arg) on vCPU `vcpu`. The first time: VCPUOP_initialise + VCPUOP_up. On a vCPU parked
 * by the SDK (its previous fn returned): hand over fn and VCPUOP_up it. Waits (up to 5 s) until
 * the vCPU has done its per-CPU set-up and is about to call fn. Returns 0, the hypercall's
 * -errno, -XEN_EINVAL (vcpu >= 32 or the calling vCPU), -XEN_EBUSY (already running a function
 * or still starting), -XEN_ENOSYS (see pvkvm_smp_prepare) or -XEN_ETIMEDOUT.
 */
long pvkvm_start_vcpu(unsigned vcpu, void (*fn)(void *), void *arg);

/* The SDK's view of a vCPU started with pvkvm_start_vcpu. */
enum pvkvm_vcpu_state {
  PVKVM_VCPU_OFFLINE = 0,  /* never started by the SDK */
  PVKVM_VCPU_STARTING = 1, /* initialised and upped; per-CPU set-up not finished */
  PVKVM_VCPU_RUNNING = 2,  /* running fn */
  PVKVM_VCPU_PARKED = 3,   /* fn returned; the vCPU downs itself until given more work */
};
enum pvkvm_vcpu_state pvkvm_vcpu_state(unsigned vcpu);
/* Result of the secondary's per-CPU set-up (evtchn_init), 0 if nothing to do. */
long pvkvm_vcpu_init_result(unsigned vcpu);
/* Wait (spinning) up to timeout_ns for an SDK-started vCPU to park. Returns 1 if it did. */
int pvkvm_wait_vcpu_parked(unsigned vcpu, uint64_t timeout_ns);

/* The secondary vCPU's first code at the SDK's level (entered by the kernel); not for direct use. */
void pvkvm_secondary_main(unsigned vcpu) __attribute__((noreturn));

#endif
