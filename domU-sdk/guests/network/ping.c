/* ping.c: mode=ping (ICMP echo) and mode=udp-ping (datagrams to a responder's UDP echo server),
 * one request at a time, RTT percentiles; and the peer check the sending modes start with. */
#include "network.h"

#define MAX_SAMPLES 10000u

static uint64_t rtts[MAX_SAMPLES];

int net_opt_peer(uint32_t *peer) {
  char buf[32];
  if (pvkvm_cmdline_get("peer", buf, sizeof(buf)) < 0 || net_parse_ip(buf, peer) < 0) {
    printf("net: peer=A.B.C.D is required\n");
    return -1;
  }
  return 0;
}

int net_wait_peer(struct netstack *ns, uint32_t peer, uint64_t timeout_ns) {
  uint64_t deadline = deadline_after(timeout_ns), rtt;
  for (uint16_t seq = 0;; seq++) {
    int rc = icmp_ping(ns, peer, 0xfffe, seq, 8, NSEC_PER_SEC / 2, &rtt);
    if (rc == 0) return 0;
    if (rc != -XEN_ETIMEDOUT && rc != -XEN_EAGAIN) return rc;
    if (pvkvm_time_ns() >= deadline) return -XEN_ETIMEDOUT;
  }
}

static void sort(uint64_t *a, unsigned n) { /* shell sort: n is small, no allocation */
  for (unsigned gap = n / 2; gap > 0; gap /= 2)
    for (unsigned i = gap; i < n; i++)
      for (unsigned j = i; j >= gap && a[j - gap] > a[j]; j -= gap) {
        uint64_t t = a[j];
        a[j] = a[j - gap];
        a[j - gap] = t;
      }
}

/* The p-th percentile (nearest rank) of sorted a[0..n). */
static uint64_t pct(const uint64_t *a, unsigned n, unsigned p) {
  unsigned rank = (p * n + 99) / 100;
  return a[rank ? rank - 1 : 0];
}

/* One UDP echo round trip: send, then wait for a datagram from peer:port with our sequence.
 * An echo of our sequence and size whose bytes differ from what we sent is -XEN_EIO (corrupted
 * on the way), not a loss: a soak run counts those as errors and timeouts only as losses. */
static int udp_echo(struct udp_sock *sk, uint32_t peer, uint16_t port, uint32_t seq, size_t size, uint64_t *rtt) {
  static uint8_t out[NETSTACK_UDP_MAX], in[NETSTACK_UDP_MAX];
  net_put32(out, NETWORK_MAGIC);
  net_put32(out + 4, NETWORK_KIND_DATA);
  net_put32(out + 8, seq);
  for (size_t i = 12; i < size; i++) out[i] = (uint8_t)(seq * 7 + i);
  uint64_t t0 = pvkvm_time_ns(), deadline = t0 + NSEC_PER_SEC;
  int rc = udp_sendto(sk, peer, port, out, size, 0);
  if (rc < 0) return rc;
  for (;;) {
    uint64_t now = pvkvm_time_ns();
    if (now >= deadline) return -XEN_ETIMEDOUT;
    uint32_t ip;
    uint16_t from;
    int n = udp_recvfrom(sk, in, sizeof(in), &ip, &from, deadline - now);
    if (n < 0) return n;
    if (ip != peer || from != port || (size_t)n != size || net_get32(in + 8) != seq) continue; /* stale */
    if (memcmp(in, out, size) != 0) return -XEN_EIO;
    break;
  }
  *rtt = pvkvm_time_ns() - t0;
  return 0;
}

enum pvkvm_test_result net_mode_ping(struct netstack *ns, int udp) {
  uint32_t peer;
  if (net_opt_peer(&peer) < 0) return TEST_ERROR;
  const char *kind = udp ? "udp-ping" : "ping";
  unsigned count = (unsigned)pvkvm_cmdline_ull("count", 10);
  size_t size = (size_t)pvkvm_cmdline_ull("size", udp ? 64 : 56);
  uint16_t port = (uint16_t)pvkvm_cmdline_ull("port", NETWORK_DEFAULT_PORT);
  uint64_t wait = pvkvm_cmdline_ull("vif_wait", 60) * NSEC_PER_SEC;
  if (count == 0 || size > NETSTACK_UDP_MAX || (udp && size < 12)) {
    printf("net: bad count/size\n");
    return TEST_ERROR;
  }
  static struct udp_sock sk;
  if (udp && udp_bind(ns, &sk, (uint16_t)(port + 2), NULL, NULL) < 0) return TEST_ERROR;
  int rc = net_wait_peer(ns, peer, wait);
  if (rc < 0) {
    printf("net: peer does not answer: %d\n", rc);
    return TEST_FAILURE;
  }
  unsigned got = 0;
  for (unsigned i = 0; i < count; i++) {
    uint64_t rtt;
    rc = udp ? udp_echo(&sk, peer, port, i, size, &rtt) : icmp_ping(ns, peer, 1, (uint16_t)i, size, NSEC_PER_SEC, &rtt);
    if (rc == 0 && got < MAX_SAMPLES) rtts[got++] = rtt;
    else if (rc < 0) printf("net: %s seq=%u: %d\n", kind, i, rc);
  }
  if (got == 0) {
    printf("net: %s sent=%u received=0 lost=%u\n", kind, count, count);
    return TEST_FAILURE;
  }
  sort(rtts, got);
  printf("net: %s sent=%u received=%u lost=%u rtt_min_us=%llu rtt_p50_us=%llu rtt_p99_us=%llu rtt_max_us=%llu\n",
         kind, count, got, count - got, (unsigned long long)(rtts[0] / 1000),
         (unsigned long long)(pct(rtts, got, 50) / 1000), (unsigned long long)(pct(rtts, got, 99) / 1000),
         (unsigned long long)(rtts[got - 1] / 1000));
  return got == count ? TEST_SUCCESS : TEST_FAILURE;
}
