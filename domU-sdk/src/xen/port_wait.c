/* port_wait.c: the clear / look / arm / fence / look / SCHEDOP_poll loop of <pvkvm/port_wait.h>. */
#include <stdint.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/port_wait.h>
#include <pvkvm/time.h>

int port_wait(struct port_wait *w) {
  int quiet = 0; /* the last poll ended without the port's event */
  for (;;) {
    evtchn_clear(w->port); /* before looking: an event sent after this stays pending */
    int r = w->look(w);
    if (r == 0 && w->arm) {
      w->arm(w);
      __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the request is visible before we look again */
      r = w->look(w);
    }
    if (r != 0) {
      if (r > 0 && quiet) w->quiet_wakeups++;
      return r;
    }
    uint64_t now = pvkvm_time_ns();
    if (now >= w->deadline) return -XEN_ETIMEDOUT;
    uint64_t until = now + w->slice_ns;
    if (until > w->deadline || until < now) until = w->deadline;
    if (w->notify) evtchn_send(w->port);
    long rc = evtchn_poll(&w->port, 1, until);
    w->polls++;
    if (rc < 0) return (int)rc;
    quiet = !evtchn_pending(w->port);
  }
}
