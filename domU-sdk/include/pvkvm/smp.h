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
 * -errno, -XEN_EINVAL (vcpu >= 32 or the calling vCPU), -XEN_EBUSY (already running a function,
 * still starting, or held offline), -XEN_ENODEV (taken offline: see the online set below),
 * -XEN_ENOSYS (see pvkvm_smp_prepare) or -XEN_ETIMEDOUT.
 */
long pvkvm_start_vcpu(unsigned vcpu, void (*fn)(void *), void *arg);

/* The SDK's view of a vCPU started with pvkvm_start_vcpu. */
enum pvkvm_vcpu_state {
  PVKVM_VCPU_OFFLINE = 0,  /* never started by the SDK */
  PVKVM_VCPU_STARTING = 1, /* initialised and upped; per-CPU set-up not finished */
  PVKVM_VCPU_RUNNING = 2,  /* running fn */
  PVKVM_VCPU_PARKED = 3,   /* fn returned; the vCPU downs itself until given more work */
  PVKVM_VCPU_HELD = 4,     /* taken offline inside fn: down at pvkvm_smp_checkpoint until online */
};
enum pvkvm_vcpu_state pvkvm_vcpu_state(unsigned vcpu);
/* Result of the secondary's per-CPU set-up (evtchn_init), 0 if nothing to do. */
long pvkvm_vcpu_init_result(unsigned vcpu);
/* Wait (spinning) up to timeout_ns for an SDK-started vCPU to park. Returns 1 if it did. */
int pvkvm_wait_vcpu_parked(unsigned vcpu, uint64_t timeout_ns);

/*
 * The online set (vCPU hot-plug, as the toolstack's cpu/N/availability asks: <pvkvm/xenbus.h>
 * xenbus_handle_cpu_hotplug). Every vCPU starts online. An offline vCPU gets no work
 * (pvkvm_start_vcpu answers -XEN_ENODEV) and is down in the hypervisor: it stops when its fn
 * returns (it parks) or when its fn calls pvkvm_smp_checkpoint. vCPU 0 is always online.
 */
uint32_t pvkvm_smp_online_mask(void);    /* bit n: vCPU n exists and is online */
int pvkvm_vcpu_online(unsigned vcpu);    /* 1 if that bit is set */
/*
 * Take vCPU `vcpu` offline or bring it online (what the hot-plug handler calls; usable directly).
 * Offline: mark it, then wait up to timeout_ns until it is down (parked, held at a checkpoint, or
 * never started): 0, or -XEN_ETIMEDOUT if its fn has not stopped yet (it stays marked and stops
 * at its next checkpoint). Online: a vCPU held at a checkpoint is upped (VCPUOP_up) and its fn
 * resumes there; an idle one (never started, or parked) is given the pvkvm_smp_on_online function
 * if one is set (pvkvm_start_vcpu: VCPUOP_initialise first if it never ran). -XEN_EINVAL for
 * vCPU 0 or the calling vCPU, -XEN_ENOENT past the last vCPU.
 */
long pvkvm_vcpu_set_online(unsigned vcpu, int online, uint64_t timeout_ns);
/* Call from a long-running fn between units of work: if this vCPU was taken offline, it goes down
 * here (VCPUOP_down on itself, as Linux's offlined CPU does) and returns 1 once it is online
 * again; otherwise returns 0 at once (a load). */
int pvkvm_smp_checkpoint(void);
/* Work for vCPUs that come online idle (NULL: none; they stay down until pvkvm_start_vcpu). */
void pvkvm_smp_on_online(void (*fn)(void *), void *arg);

/* The secondary vCPU's first code at the SDK's level (entered by the kernel); not for direct use. */
void pvkvm_secondary_main(unsigned vcpu) __attribute__((noreturn));

#endif
