/*
 * pvkvm/evtchn.h: shared_info, event channels (2-level ABI) and the upcall.
 *
 *   struct shared_info *si = pvkvm_shared_info();   // mapped once, in the guest's .bss
 *   evtchn_init(EVTCHN_UPCALL_VECTOR);              // or EVTCHN_CALLBACK_VECTOR
 *   evtchn_port_t p;
 *   evtchn_bind_ipi(0, &p);
 *   evtchn_set_handler(p, my_handler, NULL);
 *   local_irq_enable();
 *   evtchn_send(p);                                 // my_handler(p, NULL) runs in the upcall
 *
 * Every hypercall wrapper returns the hypercall's result: 0 or a negative Xen errno (-XEN_E*).
 *
 * Upcall modes (see docs/xen-abi.md §4.4):
 *   EVTCHN_UPCALL_VECTOR    HVMOP_set_evtchn_upcall_vector(vcpu, 0xF3): a LAPIC interrupt on this
 *                           vCPU; the handler EOIs it.
 *   EVTCHN_CALLBACK_VECTOR  HVM_PARAM_CALLBACK_IRQ = (2 << 56) | 0xF3, domain-wide: injected
 *                           while vcpu_info.evtchn_upcall_pending is set; no EOI.
 * Without evtchn_init the guest gets no interrupts; it can still poll shared_info, use
 * SCHEDOP_poll, and run the dispatcher by hand (evtchn_do_upcall / evtchn_run_pending).
 *
 * The dispatcher is Linux's 2-level loop: clear evtchn_upcall_pending, exchange
 * evtchn_pending_sel with 0, for each set word i take pending[i] & ~mask[i], clear each bit
 * atomically and call that port's handler; repeat while evtchn_upcall_pending was set again.
 * Ports without a handler are cleared and counted (evtchn_unhandled_count). Handlers run with
 * interrupts disabled, at the SDK's level: at CPL 3 (the default, <pvkvm/cpu.h>) the kernel only
 * acknowledges the upcall and the dispatcher runs there, with the virtual interrupt flag off.
 *
 * Per-vCPU state is indexed by pvkvm_vcpu_id() (see pvkvm/smp.h). An IPI port bound with
 * evtchn_bind_ipi(k, ...) is dispatched only on vCPU k (the SDK records each port's vCPU).
 */
#ifndef PVKVM_EVTCHN_H
#define PVKVM_EVTCHN_H
#include <stdint.h>
#include <pvkvm/xen.h>
#include <pvkvm/arch.h>
#include <xen-abi/event-channel.h>
#include <xen-abi/vcpu.h>

typedef uint32_t evtchn_port_t;
typedef uint16_t domid_t;

#define EVTCHN_NR_PORTS 4096u  /* 2-level ABI, 64-bit guest: 64 words x 64 bits */
#define PVKVM_MAX_VCPUS 32u    /* vcpu_info slots in shared_info */

/* CPUID leaf Xen base + 4, set by pvkvm_smp_prepare (src/xen/smp.c) before a secondary vCPU
 * starts; 0 while only the boot vCPU runs. */
extern uint32_t pvkvm_smp_id_leaf;

/* This vCPU's id (Xen's vcpu_id), as the kernel recorded it in the vCPU's pvkvm_cpu when the
 * vCPU started (for a secondary, after checking it against CPUID leaf base+4 EBX). Read through
 * %gs: a CPUID costs an exit (tens of thousands of cycles from CPL 3 on kvm_pvm hosts). */
static inline unsigned pvkvm_vcpu_id(void) { return pvkvm_cpu_vcpu_id(); }

/* Our domain id from CPUID leaf base+4 (XEN_HVM_CPUID_DOMID_PRESENT), or -1 if not reported. */
int pvkvm_domid(void);

/*
 * shared_info, mapped on first use with XENMEM_add_to_physmap(XENMAPSPACE_shared_info, idx 0)
 * over a page-aligned page of the SDK's .bss. NULL if the mapping failed (the error is kept in
 * pvkvm_shared_info_error()).
 */
struct shared_info *pvkvm_shared_info(void);
long pvkvm_shared_info_error(void);
/* This vCPU's vcpu_info in shared_info (NULL if shared_info could not be mapped). */
struct vcpu_info *pvkvm_vcpu_info(void);

/* --- upcall --- */
enum evtchn_upcall_mode {
  EVTCHN_UPCALL_NONE = 0,
  EVTCHN_UPCALL_VECTOR = 1,   /* HVMOP_set_evtchn_upcall_vector, guest EOIs */
  EVTCHN_CALLBACK_VECTOR = 2, /* HVM_PARAM_CALLBACK_IRQ type VECTOR, no EOI */
};

/* Map shared_info, have the kernel enable the local APIC (its gates for 0xF3 upcall and 0xFF
 * spurious are installed at boot) and register the upcall for this vCPU in `mode`. Leaves the interrupt flag as it was. Returns 0 or
 * -errno (of the mapping or of the registration hypercall). */
long evtchn_init(enum evtchn_upcall_mode mode);
/* The mode registered for this vCPU (EVTCHN_UPCALL_NONE before evtchn_init succeeds). */
enum evtchn_upcall_mode evtchn_upcall_mode(void);

/* The 2-level dispatcher. Called from the upcall interrupt; may be called by hand with interrupts
 * disabled (or when no upcall is registered). */
void evtchn_do_upcall(void);
/* Run handlers for events that are pending now, by calling the dispatcher with interrupts
 * disabled (whether or not an upcall is registered; an upcall interrupt still in flight then
 * finds nothing to do). Restores the interrupt flag. */
void evtchn_run_pending(void);
/* Replace the dispatcher the upcall and evtchn_run_pending run (NULL: the 2-level one), for
 * another event ABI: the FIFO helper (<pvkvm/evtchn_fifo.h>) sets its consume loop here, so its
 * upcall arrives through the kernel's entry at CPL 3 as 2-level delivery does. */
void evtchn_set_dispatcher(void (*dispatch)(void));

/* Counters for this vCPU: upcall interrupts taken, events dispatched, events without handler. */
uint64_t evtchn_upcall_count(void);
uint64_t evtchn_event_count(void);
uint64_t evtchn_unhandled_count(void);
/* Spurious-vector (0xFF) interrupts, all vCPUs. */
extern volatile uint64_t pvkvm_spurious_count;

typedef void (*evtchn_handler_t)(evtchn_port_t port, void *arg);
/* Install (or with NULL remove) the handler of a port. */
void evtchn_set_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg);

/* --- EVTCHNOP wrappers (dom = DOMID_SELF where the op has one) --- */
long evtchn_alloc_unbound(domid_t remote_dom, evtchn_port_t *port);
long evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port, evtchn_port_t *port);
long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port);
/* At CPL 3 on pvkvm a send first tries the hypervisor's send port directly (completed in the
 * host kernel for ports wired to an ioeventfd, such as a dom0 backend's), and goes through the
 * kernel's gate for the others (remembered per port). */
long evtchn_send(evtchn_port_t port);
/* The port user code may send on directly (the kernel opens it at boot on pvkvm), or 0. */
extern uint16_t pvkvm_evtchn_send_port;
long evtchn_close(evtchn_port_t port);     /* also removes the port's handler */
long evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu);
long evtchn_reset(domid_t dom);            /* DOMID_SELF also forgets every handler */

/* EVTCHNOP_status, decoded. `remote_dom` is set for unbound and interdomain ports, `remote_port`
 * for interdomain, `virq` for virq, `pirq` for pirq ports. */
struct evtchn_status_info {
  uint32_t status; /* EVTCHNSTAT_* */
  uint32_t vcpu;
  domid_t remote_dom;
  evtchn_port_t remote_port;
  uint32_t virq;
  uint32_t pirq;
};
long evtchn_status(domid_t dom, evtchn_port_t port, struct evtchn_status_info *info);

/* --- shared_info bits (ports >= EVTCHN_NR_PORTS are ignored / read as 0) --- */
void evtchn_mask(evtchn_port_t port);   /* set the mask bit atomically */
/* Clear the mask bit; if the port is pending, re-mask and call EVTCHNOP_unmask so the hypervisor
 * re-raises the event (Linux's HVM path). Returns 0 or the hypercall's -errno. */
long evtchn_unmask(evtchn_port_t port);
int evtchn_pending(evtchn_port_t port);
int evtchn_masked(evtchn_port_t port);
void evtchn_clear(evtchn_port_t port);  /* clear the pending bit atomically */

/* --- waiting --- */
/*
 * SCHEDOP_block the way `sti; hlt` halts: interrupts are enabled in the STI shadow of the
 * hypercall instruction itself, so the hypervisor sees IF = 1 and returns at once if an upcall is
 * pending, and no event can be handled between a caller's (interrupts-off) check and the block.
 * Afterwards pending handlers run (evtchn_run_pending) and the interrupt flag is restored.
 * Needs a registered upcall (evtchn_init): Xen wakes a blocked HVM vCPU only by raising it.
 * Returns the hypercall's result. Typical use:
 *   cli(); while (!done) evtchn_block(); sti();
 */
long evtchn_block(void);
/* SCHEDOP_poll on n ports (n <= 128 is Xen's limit; larger is passed through), timeout an
 * absolute system time in ns (0 = none). Does not touch the interrupt flag or run handlers. */
long evtchn_poll(const evtchn_port_t *ports, unsigned n, uint64_t timeout_abs_ns);

#endif
