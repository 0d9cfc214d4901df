/*
 * fifo-ops: the FIFO event ABI's set-up commands with Xen's return values (common/event_fifo.c,
 * event_channel.c; docs/xen-abi.md §5.4): init_control (each bad argument, twice, a second vCPU),
 * expand_array (before init, bad frames, past 2^17 ports), set_priority (bad port, free port,
 * 2-level domain, priority past 15), the port space past 4096, a 2-level event carried over the
 * switch, an event saved while its array page was missing, and EVTCHNOP_reset back to 2-level.
 * No upcall is registered and interrupts stay off: every effect is read in guest memory.
 */
#include <pvkvm/pvkvm.h>

#include <pvkvm/evtchn_fifo.h>

#define CB_SIZE sizeof(struct evtchn_fifo_control_block)
#define GFN(p) ((uint64_t)(uintptr_t)(p) >> 12)

/* Our own control blocks (vCPU 0 at 0, vCPU 1 at the end of the page) and a spare array page. */
static uint8_t control[4096] __attribute__((aligned(4096)));
static event_word_t spare[1024] __attribute__((aligned(4096)));

static volatile struct evtchn_fifo_control_block *cb(unsigned off) {
  return (volatile struct evtchn_fifo_control_block *)(control + off);
}

static long init_control(uint64_t gfn, uint32_t offset, uint32_t vcpu) {
  return evtchn_fifo_init_control(gfn, offset, vcpu, NULL);
}

int main(void) {
  REQUIRE_XEN();
  printf("fifo-ops: at CPL %d\n", pvkvm_at_cpl3() ? 3 : 0); /* the SDK's default */
  cli();
  REQUIRE(pvkvm_shared_info() != NULL);
  int nvcpus = pvkvm_nr_vcpus();
  uint64_t no_ram = (pvkvm_ram_bytes() >> 12) + 0x1000; /* a hole past RAM */

  /* ---- a 2-level domain ---- */
  evtchn_port_t pre = 0;
  CHECK_EQ(evtchn_bind_ipi(0, &pre), 0);
  CHECK_EQ(evtchn_send(pre), 0);
  CHECK(evtchn_pending(pre)); /* 2-level bit */
  CHECK_EQ(evtchn_fifo_expand_array(GFN(spare)), -XEN_EOPNOTSUPP);
  CHECK_EQ(evtchn_fifo_set_priority(pre, 7), -XEN_ENOSYS);

  /* ---- init_control's checks: each failure leaves the domain 2-level ---- */
  CHECK_EQ(init_control(GFN(control), 0, (uint32_t)nvcpus), -XEN_ENOENT);
  CHECK_EQ(init_control(GFN(control), 0, 0xffffffffu), -XEN_ENOENT);
  CHECK_EQ(init_control(GFN(control), 4096 - CB_SIZE + 8, 0), -XEN_EINVAL); /* crosses the page */
  CHECK_EQ(init_control(GFN(control), 0xfffffff8u, 0), -XEN_EINVAL);
  CHECK_EQ(init_control(GFN(control), 4, 0), -XEN_EINVAL);                  /* not 8-aligned */
  CHECK_EQ(init_control(GFN(control), 4096 - CB_SIZE - 4, 0), -XEN_EINVAL);
  CHECK_EQ(init_control(1ULL << 40, 0, 0), -XEN_EINVAL);                    /* no such frame */
  CHECK_EQ(init_control(~0ULL, 0, 0), -XEN_EINVAL);
  CHECK_EQ(init_control(no_ram, 0, 0), -XEN_EINVAL);                        /* not RAM */
  CHECK_EQ(evtchn_fifo_set_priority(pre, 7), -XEN_ENOSYS);                  /* still 2-level */

  /* ---- the switch ---- */
  uint8_t link_bits = 0;
  CHECK_EQ(evtchn_fifo_init_control(GFN(control), 0, 0, &link_bits), 0);
  CHECK_EQ(link_bits, EVTCHN_FIFO_LINK_BITS);
  CHECK_EQ(init_control(GFN(control), 0, 0), -XEN_EINVAL);   /* vCPU 0 again */
  CHECK_EQ(init_control(GFN(control), 256, 0), -XEN_EINVAL); /* ... anywhere */
  if (nvcpus > 1) {
    CHECK_EQ(init_control(no_ram, 4096 - CB_SIZE, 1), -XEN_EINVAL);
    CHECK_EQ(init_control(GFN(control), 4096 - CB_SIZE, 1), 0); /* the last offset that fits */
    CHECK_EQ(init_control(GFN(control), 4096 - CB_SIZE, 1), -XEN_EINVAL);
  } else {
    printf("one vCPU: no second control block\n");
  }
  CHECK_EQ(init_control(GFN(control), 0, (uint32_t)nvcpus), -XEN_ENOENT);

  /* ---- expand_array ---- */
  CHECK_EQ(evtchn_fifo_expand_array(1ULL << 40), -XEN_EINVAL);
  CHECK_EQ(evtchn_fifo_expand_array(no_ram), -XEN_EINVAL);
  /* The 2-level event on `pre` was carried over: it is pending once its page exists (masked,
   * as the SDK initialises words, so not linked until unmasked). */
  CHECK_EQ(evtchn_fifo_expand(), 0);
  CHECK(evtchn_fifo_pending(pre));
  CHECK(!evtchn_fifo_linked(pre));
  CHECK_EQ(cb(0)->ready, 0);
  CHECK_EQ(evtchn_fifo_unmask(pre), 0);
  CHECK(evtchn_fifo_linked(pre));
  CHECK_EQ(cb(0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], pre);
  CHECK_EQ(cb(0)->ready, 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
  CHECK_EQ(pvkvm_vcpu_info()->evtchn_upcall_pending, 1);

  /* ---- set_priority ---- */
  evtchn_port_t unused = 1000;
  struct evtchn_status_info st;
  CHECK_EQ(evtchn_status(DOMID_SELF, unused, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_closed);
  CHECK_EQ(evtchn_fifo_set_priority(pre, 16), -XEN_EINVAL);
  CHECK_EQ(evtchn_fifo_set_priority(pre, 0xffffffffu), -XEN_EINVAL);
  CHECK_EQ(evtchn_fifo_set_priority(unused, 7), -XEN_EACCES); /* not bound */
  CHECK_EQ(evtchn_fifo_set_priority(0, 7), -XEN_EACCES);      /* reserved */
  CHECK_EQ(evtchn_fifo_set_priority(EVTCHN_FIFO_NR_CHANNELS, 7), -XEN_EINVAL);
  CHECK_EQ(evtchn_fifo_set_priority(0xffffffffu, 7), -XEN_EINVAL);
  CHECK_EQ(evtchn_fifo_set_priority(pre, EVTCHN_FIFO_PRIORITY_MIN), 0);
  CHECK_EQ(evtchn_fifo_set_priority(pre, EVTCHN_FIFO_PRIORITY_MAX), 0);

  /* ---- the port space is 2^17 now ---- */
  unsigned n = 0;
  evtchn_port_t last = 0, p = 0;
  long rc = 0;
  while (n < 4200 && (rc = evtchn_alloc_unbound(DOMID_SELF, &p)) == 0) {
    last = p;
    n++;
  }
  CHECK_EQ(rc, 0);
  printf("alloc_unbound: %u ports, the last %u\n", n, last);
  CHECK(last >= EVTCHN_NR_PORTS);
  evtchn_port_t far = 0;
  CHECK_EQ(evtchn_bind_ipi(0, &far), 0);
  CHECK(far > last);
  CHECK_EQ(evtchn_status(DOMID_SELF, far, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_ipi);
  CHECK_EQ(evtchn_status(DOMID_SELF, EVTCHN_FIFO_NR_CHANNELS, &st), -XEN_EINVAL);
  /* An event on a port whose array page is missing waits for the page. */
  CHECK(evtchn_fifo_word(far) == NULL);
  CHECK_EQ(evtchn_send(far), 0);
  CHECK_EQ(evtchn_fifo_setup(far), 0);
  CHECK(evtchn_fifo_pending(far));
  printf("event array: %u ports\n", evtchn_fifo_nr_ports());

  /* ---- the array ends at 2^17 ports ---- */
  unsigned pages = evtchn_fifo_nr_ports() / EVTCHN_FIFO_WORDS_PER_PAGE, added = 0;
  while (pages < EVTCHN_FIFO_NR_CHANNELS / EVTCHN_FIFO_WORDS_PER_PAGE &&
         (rc = evtchn_fifo_expand_array(GFN(spare))) == 0) { /* one page may back many slots */
    pages++;
    added++;
  }
  CHECK_EQ(rc, 0);
  CHECK_EQ(pages, 128);
  CHECK_EQ(evtchn_fifo_expand_array(GFN(spare)), -XEN_ENOSPC);
  CHECK_EQ(evtchn_fifo_expand_array(1ULL << 40), -XEN_ENOSPC); /* checked before the frame */
  printf("expand_array: %u more pages, then -ENOSPC\n", added);

  /* ---- reset: every port closed, the domain 2-level again ---- */
  CHECK_EQ(evtchn_reset(DOMID_SELF), 0);
  evtchn_fifo_forget();
  CHECK_EQ(evtchn_status(DOMID_SELF, far, &st), -XEN_EINVAL); /* past the 2-level space */
  CHECK_EQ(evtchn_status(DOMID_SELF, pre, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_closed);
  CHECK_EQ(evtchn_fifo_set_priority(1, 7), -XEN_ENOSYS);
  CHECK_EQ(evtchn_fifo_expand_array(GFN(spare)), -XEN_EOPNOTSUPP);
  evtchn_port_t again = 0;
  CHECK_EQ(evtchn_bind_ipi(0, &again), 0);
  evtchn_clear(again);
  CHECK_EQ(evtchn_send(again), 0);
  CHECK(evtchn_pending(again)); /* a 2-level event again */
  CHECK_EQ(evtchn_close(again), 0);
  /* And FIFO may be chosen again. */
  CHECK_EQ(init_control(GFN(control), 0, 0), 0);
  CHECK_EQ(evtchn_fifo_set_priority(1, 7), -XEN_EACCES);
  CHECK_EQ(evtchn_reset(DOMID_SELF), 0);

  test_done();
}
