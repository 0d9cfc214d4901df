/*
 * pvkvm/evtchn_fifo.h: the FIFO event channel ABI (Xen 4.4+) for guests that ask for it — a
 * control block per vCPU, event-array pages, priorities, and Linux's consume loop.
 *
 *   evtchn_fifo_init(0);                        // control block for vCPU 0: the domain is FIFO now
 *   evtchn_port_t p;
 *   evtchn_bind_ipi(0, &p);                     // the ordinary EVTCHNOP wrappers bind ports
 *   evtchn_fifo_setup(p);                       // array pages up to p's word (Linux's order)
 *   evtchn_fifo_unmask(p);                      // words start MASKED, as Linux initialises them
 *   evtchn_send(p);
 *   evtchn_fifo_consume(0, handler, arg);       // handler(p, arg), highest priority first
 *
 * After the switch the 2-level bit helpers of <pvkvm/evtchn.h> (evtchn_pending, evtchn_clear, ...)
 * and the 2-level dispatcher no longer see events; the SDK's drivers still use them, so a FIFO
 * guest's console and xenstore waits poll instead of sleeping (their ports stay masked here).
 * Every wrapper returns the hypercall's result: 0 or a negative Xen errno (-XEN_E*).
 */
#ifndef PVKVM_EVTCHN_FIFO_H
#define PVKVM_EVTCHN_FIFO_H
#include <stdint.h>
#include <pvkvm/evtchn.h>

typedef uint32_t event_word_t;

#define EVTCHN_FIFO_WORDS_PER_PAGE 1024u
/* Array pages the SDK keeps in .bss (ports 0..8191); raw expand_array may add others. */
#define EVTCHN_FIFO_SDK_PAGES 8u

/* The raw hypercalls. link_bits (may be NULL) receives what init_control wrote back. */
long evtchn_fifo_init_control(uint64_t control_gfn, uint32_t offset, uint32_t vcpu, uint8_t *link_bits);
long evtchn_fifo_expand_array(uint64_t array_gfn);
long evtchn_fifo_set_priority(evtchn_port_t port, uint32_t priority);

/* init_control for `vcpu` with the SDK's control block (one .bss page, 128 bytes per vCPU). */
long evtchn_fifo_init(unsigned vcpu);
/* Add the SDK's next array page (all words MASKED first); -XEN_ENOSPC past EVTCHN_FIFO_SDK_PAGES. */
long evtchn_fifo_expand(void);
/* Expand until `port` has an event word. */
long evtchn_fifo_setup(evtchn_port_t port);
/* Ports covered by the SDK's array pages. */
unsigned evtchn_fifo_nr_ports(void);
/* Forget the SDK's FIFO state after EVTCHNOP_reset (the domain is 2-level again). */
void evtchn_fifo_forget(void);

/* The event word of `port` (NULL when no SDK page covers it) and vCPU's control block. */
volatile event_word_t *evtchn_fifo_word(evtchn_port_t port);
volatile struct evtchn_fifo_control_block *evtchn_fifo_control(unsigned vcpu);

/* Bits of a port's event word (0 without one). */
int evtchn_fifo_pending(evtchn_port_t port);
int evtchn_fifo_masked(evtchn_port_t port);
int evtchn_fifo_linked(evtchn_port_t port);
uint32_t evtchn_fifo_link(evtchn_port_t port);
void evtchn_fifo_mask(evtchn_port_t port);
void evtchn_fifo_clear(evtchn_port_t port);
/* Linux's unmask: clear MASKED by compare-and-swap unless the event is PENDING or BUSY, in which
 * case EVTCHNOP_unmask lets the hypervisor clear it and link the event. */
long evtchn_fifo_unmask(evtchn_port_t port);

/* Linux's consume loop on `vcpu`'s queues: take the ready bits, unlink each head, follow LINK, call
 * fn(port, arg) for each pending unmasked event (after clearing PENDING), highest priority first,
 * at most `max` events (0 = no limit). Returns the events handled. Interrupts off, or by hand. */
unsigned evtchn_fifo_consume(unsigned vcpu, evtchn_handler_t fn, void *arg, unsigned max);

/* Take upcalls in FIFO order on this vCPU: evtchn_init(EVTCHN_UPCALL_VECTOR), then the upcall gate
 * points at a handler that EOIs, clears evtchn_upcall_pending and calls evtchn_fifo_consume with
 * fn. Returns evtchn_init's result. */
long evtchn_fifo_upcall_init(evtchn_handler_t fn, void *arg);
uint64_t evtchn_fifo_upcall_count(void);

#endif
