/*
 * vcpuops: VCPUOP_down / up / is_up as Xen's do_vcpu_op answers them (docs/xen-abi.md §7.4).
 *   - vCPU 0 downs vCPU 1 while vCPU 1 waits in SCHEDOP_poll on its own IPI port: vCPU 1 is down
 *     at once (is_up = 0), and an event on that port does not make it run; VCPUOP_up resumes it
 *     (its poll returns 0 and it carries on where it was).
 *   - downing a vCPU that is already down, and upping one that is up, succeed (0).
 *   - the last vCPU going down powers the domain off: once vCPU 1 has parked (down), vCPU 0 prints
 *     the result, `vCPU 0 goes down last`, and calls VCPUOP_down on itself; that never returns
 *     (`VCPUOP_down of the last vCPU returned` would be a failure).
 */
#include <pvkvm/pvkvm.h>

#define MS NSEC_PER_MSEC

static evtchn_port_t ipi1; /* bound to vCPU 1, masked: only SCHEDOP_poll waits on it */
static volatile int polling, woke;
static volatile long poll_rc = 1;

static void poller(void *arg) {
  __atomic_store_n(&polling, 1, __ATOMIC_RELEASE);
  poll_rc = evtchn_poll(&ipi1, 1, 0); /* no timeout: until the port is pending */
  __atomic_store_n(&woke, 1, __ATOMIC_RELEASE);
}

static int wait_until(volatile int *flag, uint64_t ms) {
  uint64_t end = deadline_after(ms * MS);
  while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
    if (pvkvm_time_ns() >= end) return 0;
    else pvkvm_sleep_ns(1 * MS);
  return 1;
}

int main(void) {
  REQUIRE_XEN();
  if (pvkvm_nr_vcpus() < 2) test_skip("needs 2 vCPUs (--vcpus 2)");
  REQUIRE(pvkvm_smp_prepare() == 0);
  REQUIRE(evtchn_bind_ipi(1, &ipi1) == 0);
  evtchn_mask(ipi1);

  REQUIRE(pvkvm_start_vcpu(1, poller, NULL) == 0);
  REQUIRE(wait_until(&polling, 5000));
  pvkvm_sleep_ns(50 * MS); /* let it reach the poll (it is blocked there, or about to be) */
  CHECK_EQ(pvkvm_vcpu_down(1), 0);
  CHECK_EQ(pvkvm_vcpu_is_up(1), 0);
  CHECK_EQ(pvkvm_vcpu_down(1), 0); /* already down: still 0 */
  CHECK_EQ(pvkvm_vcpu_is_up(1), 0);
  evtchn_send(ipi1);
  pvkvm_sleep_ns(300 * MS);
  CHECK_EQ(woke, 0); /* down: the pending port does not make it run */
  CHECK_EQ(pvkvm_vcpu_up(1), 0);
  CHECK(wait_until(&woke, 5000));
  CHECK_EQ(poll_rc, 0);
  CHECK_EQ(pvkvm_vcpu_up(1), 0); /* up while up (or parking): 0 */
  printf("vCPU 1 downed in SCHEDOP_poll, resumed by VCPUOP_up\n");

  CHECK(pvkvm_wait_vcpu_parked(1, 5 * NSEC_PER_SEC));
  CHECK_EQ(pvkvm_vcpu_is_up(0), 1);
  test_result(test_failures ? TEST_FAILURE : TEST_SUCCESS);
  printf("vCPU 0 goes down last\n");
  console_flush();
  long rc = pvkvm_vcpu_down(0);
  printf("VCPUOP_down of the last vCPU returned %ld\n", rc);
  test_exit(TEST_FAILURE);
}
