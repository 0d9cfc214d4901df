/* udp_send.c: mode=udp-send — numbered datagrams, paced or as fast as the ring takes them, then
 * a "done" marker. Pacing sleeps (in netstack_poll) whenever we are ahead of schedule, so a paced
 * run sends short bursts and costs a kernel call per burst, not per datagram; the rate is a
 * ceiling (a sender that fell behind does not burst to catch up, which would overrun the peer). */
#include "network.h"

#define PACE_SLACK_NS (2 * NSEC_PER_MSEC)  /* sleep once this far ahead of schedule */
#define PACE_BEHIND_NS (10 * NSEC_PER_MSEC) /* this far behind (we were descheduled): restart the
                                             * schedule instead of bursting to catch up */

static uint8_t payload[NETSTACK_UDP_MAX];

static void fill(uint32_t kind, uint32_t seq, uint32_t count, size_t size) {
  net_put32(payload, NETWORK_MAGIC);
  net_put32(payload + 4, kind);
  net_put32(payload + 8, seq);
  net_put32(payload + 12, count);
  for (size_t i = NETWORK_HDR; i < size; i++) payload[i] = (uint8_t)(seq + i);
}

enum pvkvm_test_result net_mode_udp_send(struct netstack *ns) {
  uint32_t peer;
  if (net_opt_peer(&peer) < 0) return TEST_ERROR;
  uint16_t port = (uint16_t)pvkvm_cmdline_ull("port", NETWORK_DEFAULT_PORT);
  size_t size = (size_t)pvkvm_cmdline_ull("size", NETSTACK_UDP_MAX);
  uint32_t count = (uint32_t)pvkvm_cmdline_ull("count", 1000);
  uint64_t rate = pvkvm_cmdline_ull("rate", 0);
  uint64_t wait = pvkvm_cmdline_ull("vif_wait", 60) * NSEC_PER_SEC;
  if (size < NETWORK_HDR || size > NETSTACK_UDP_MAX) {
    printf("net: size must be %u..%u\n", NETWORK_HDR, NETSTACK_UDP_MAX);
    return TEST_ERROR;
  }
  static struct udp_sock sk;
  if (udp_bind(ns, &sk, (uint16_t)(port + 1), NULL, NULL) < 0) return TEST_ERROR;
  int rc = net_wait_peer(ns, peer, wait);
  if (rc < 0) {
    printf("net: peer does not answer: %d\n", rc);
    return TEST_FAILURE;
  }
  uint64_t interval = rate ? NSEC_PER_SEC / rate : 0;
  uint64_t t0 = pvkvm_time_ns(), next = t0;
  uint32_t sent = 0;
  for (uint32_t seq = 0; seq < count; seq++) {
    if (interval) {
      next += interval;
      uint64_t now = pvkvm_time_ns();
      if (now > next + PACE_BEHIND_NS) next = now;
      if (next > now + PACE_SLACK_NS) {
        net_flush(ns->dev);
        while ((now = pvkvm_time_ns()) < next - PACE_SLACK_NS / 2)
          if (netstack_poll(ns, next - PACE_SLACK_NS / 2 - now) < 0) break;
      }
    }
    fill(NETWORK_KIND_DATA, seq, count, size);
    rc = udp_sendto(&sk, peer, port, payload, size, NET_SEND_MORE);
    if (rc < 0) {
      printf("net: udp-send seq=%u: %d\n", seq, rc);
      break;
    }
    sent++;
    if ((seq & 31) == 31) netstack_poll(ns, 0); /* push, reap, answer ARP now and then */
  }
  net_flush(ns->dev);
  uint64_t elapsed = pvkvm_time_ns() - t0;
  for (int i = 0; i < 5; i++) { /* the marker may be lost like any datagram */
    fill(NETWORK_KIND_DONE, sent, count, NETWORK_HDR);
    udp_sendto(&sk, peer, port, payload, NETWORK_HDR, 0);
    netstack_poll(ns, 20 * NSEC_PER_MSEC);
  }
  uint64_t us = elapsed / 1000 ? elapsed / 1000 : 1;
  uint64_t bytes = (uint64_t)sent * size;
  printf("net: udp-send sent=%u bytes=%llu elapsed_us=%llu pps=%llu mbps=%llu.%03llu\n", sent,
         (unsigned long long)bytes, (unsigned long long)us, (unsigned long long)(sent * 1000000ull / us),
         (unsigned long long)(bytes * 8 / us), (unsigned long long)(bytes * 8000 / us % 1000));
  return sent == count ? TEST_SUCCESS : TEST_FAILURE;
}
