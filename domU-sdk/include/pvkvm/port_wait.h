/*
 * pvkvm/port_wait.h: waiting for a peer to make progress on a shared ring whose event channel
 * port only SCHEDOP_poll consumes (the driver masks it, so the upcall dispatcher never clears its
 * pending bit). Needs no upcall and works with interrupts on or off. The xenstore client, the PV
 * console and blkfront wait this way.
 *
 *   static int look(struct port_wait *w) { struct ring *r = w->arg; return r->prod != r->cons; }
 *   struct port_wait w = {.port = port, .deadline = deadline_after(timeout_ns),
 *                         .slice_ns = 100 * NSEC_PER_MSEC, .look = look, .arg = ring};
 *   int rc = port_wait(&w);   // 1 (look's result), -XEN_ETIMEDOUT or the poll's -errno
 *
 * Each round:
 *   1. clear the port's pending bit (an atomic RMW, so a full barrier): an event the peer sends
 *      from now on stays pending;
 *   2. look: > 0 ends the wait with that value (progress), < 0 with that error, 0 = nothing yet;
 *   3. with `arm`: arm asks the peer for an event (e.g. a blkif ring's rsp_event = rsp_cons + 1),
 *      a full fence orders that store before what follows, and look runs again — progress made
 *      before the peer could see the request is found here, later progress sends the event;
 *   4. once the deadline has passed: -XEN_ETIMEDOUT;
 *   5. with `notify`: evtchn_send on the port (a peer that moves only when told, like a console
 *      backend draining a full ring);
 *   6. SCHEDOP_poll until now + slice_ns (or the deadline if sooner), then the next round.
 * No lost wake-up: progress after the last look comes with an event that is set after our clear,
 * so the poll returns at once. The slice is a safety net (say another vCPU cleared the bit):
 * a lost event costs one slice, never a hang.
 */
#ifndef PVKVM_PORT_WAIT_H
#define PVKVM_PORT_WAIT_H
#include <stdint.h>
#include <pvkvm/evtchn.h>

struct port_wait {
  evtchn_port_t port;
  uint64_t deadline;                 /* absolute pvclock ns (deadline_after); PVKVM_FOREVER */
  uint64_t slice_ns;                 /* the longest single poll */
  int (*look)(struct port_wait *w);  /* > 0 done, < 0 error, 0 keep waiting */
  void (*arm)(struct port_wait *w);  /* optional: ask the peer to send an event */
  int notify;                        /* send an event before each poll */
  void *arg;                         /* for look and arm */
  /* Counted by port_wait, for the caller's statistics. */
  unsigned polls;                    /* SCHEDOP_poll calls */
  unsigned quiet_wakeups;            /* polls that ended without the event, then look found progress */
};

/* Wait as described above: look's first non-zero result, -XEN_ETIMEDOUT, or the poll's -errno. */
int port_wait(struct port_wait *w);

#endif
