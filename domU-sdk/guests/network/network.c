/*
 * network: network workloads over <pvkvm/net.h> and <pvkvm/netstack.h> (the PV NIC, netfront).
 *
 * Command line: ip=A.B.C.D mask=PREFIX (default 24) [gw=A.B.C.D] [nic=I] [vif_wait=S] and a mode:
 *   mode=responder [port=P] [duration=S]     answer pings, echo UDP datagrams on P (default 7000),
 *                                            for S seconds (default: forever)
 *   mode=ping peer=IP [count=N] [size=B]     N echo requests (default 10) with B data bytes (56),
 *                                            one at a time; prints RTT percentiles
 *   mode=udp-ping peer=IP [port=P] [count=N] [size=B]
 *                                            the same with B-byte datagrams (default 64, at
 *                                            least 12) to a responder's UDP echo server
 *   mode=udp-send peer=IP [port=P] [size=B] [count=N] [rate=PPS]
 *                                            N datagrams of B bytes (default 1472, at least 16) at
 *                                            PPS per second (default: as fast as the ring takes
 *                                            them), then a "done" marker (sent 5 times)
 *   mode=udp-recv [port=P] [count=N] [timeout=S]
 *                                            count datagrams until the marker, N of them, or S
 *                                            seconds (default 120)
 * Datagram payload (big-endian): u32 NETWORK_MAGIC, u32 kind (0 data, 1 done), u32 seq (data) or
 * the number sent (done), u32 count, then filler bytes (seq + i) & 0xff.
 * udp-send and ping first ping the peer until it answers (up to vif_wait seconds), so the peer's
 * stack is up and both ARP caches are warm before anything is measured.
 *
 * Output (one line each, machine-readable):
 *   netfront: device/vif/N backend=.. mac=.. port=.. sg=.. rx-notify=.. poll=..  (PV NIC only)
 *   net: nic NAME mac=.. ip=.. mask=.. driver=..
 *   net: ping sent=N received=R lost=L rtt_min_us=.. rtt_p50_us=.. rtt_p99_us=.. rtt_max_us=..
 *   net: udp-ping (the same keys)
 *   net: ping|udp-ping seq=N: ERR  (a request that failed: -110 no answer in 1 s; udp-ping: -5 an
 *                                   echo of that sequence came back with other bytes)
 *   net: udp-send start count=N size=B   (the peer answered; sending starts)
 *   net: udp-send sent=N bytes=B elapsed_us=T pps=.. mbps=..
 *   net: udp-recv received=R lost=L reordered=O duplicates=D sent=S marker=0|1 bytes=B elapsed_us=T pps=.. mbps=..
 *   net: responder echoed=N pings=M
 *   net: stats ... (the stack's and the NIC's counters)
 * then "Test result: SUCCESS" (the mode did its job; loss alone is reported, not a failure),
 * FAILURE (no answer / nothing received) or ERROR (bad options), and poweroff.
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/net.h>
#include <pvkvm/netfront.h>
#include <pvkvm/netstack.h>
#include "network.h"

static struct netstack ns;
static struct net_dev *nic;

static int opt_ip(const char *key, uint32_t *ip, int required) {
  char buf[32];
  if (pvkvm_cmdline_get(key, buf, sizeof(buf)) < 0) {
    if (required) printf("net: %s= is required\n", key);
    return required ? -1 : 0;
  }
  if (net_parse_ip(buf, ip) < 0) {
    printf("net: bad %s=%s\n", key, buf);
    return -1;
  }
  return 1;
}

static void print_stats(void) {
  const struct netstack_stats *s = &ns.stats;
  const struct net_stats *d = &nic->stats;
  printf("net: stats rx_frames=%llu rx_not_ours=%llu rx_short=%llu rx_bad_header=%llu rx_bad_csum=%llu "
         "rx_fragments=%llu rx_unsupported=%llu arp_answered=%llu arp_sent=%llu echo_answered=%llu "
         "udp_delivered=%llu udp_no_port=%llu udp_queue_full=%llu tx_frames=%llu tx_errors=%llu\n",
         (unsigned long long)s->rx_frames, (unsigned long long)s->rx_not_ours, (unsigned long long)s->rx_short,
         (unsigned long long)s->rx_bad_header, (unsigned long long)s->rx_bad_csum,
         (unsigned long long)s->rx_fragments, (unsigned long long)s->rx_unsupported,
         (unsigned long long)s->arp_requests_answered, (unsigned long long)s->arp_requests_sent,
         (unsigned long long)s->icmp_echo_answered, (unsigned long long)s->udp_delivered,
         (unsigned long long)s->udp_no_port, (unsigned long long)s->udp_queue_full,
         (unsigned long long)s->tx_frames, (unsigned long long)s->tx_errors);
  printf("net: nic-stats tx_frames=%llu tx_bytes=%llu tx_errors=%llu tx_full=%llu rx_frames=%llu rx_bytes=%llu "
         "rx_errors=%llu rx_dropped=%llu notifies=%llu waits=%llu\n",
         (unsigned long long)d->tx_frames, (unsigned long long)d->tx_bytes, (unsigned long long)d->tx_errors,
         (unsigned long long)d->tx_full, (unsigned long long)d->rx_frames, (unsigned long long)d->rx_bytes,
         (unsigned long long)d->rx_errors, (unsigned long long)d->rx_dropped, (unsigned long long)d->notifies,
         (unsigned long long)d->waits);
}

int main(void) {
  uint32_t ip = 0, gw = 0;
  char mode[24];
  if (pvkvm_cmdline_get("mode", mode, sizeof(mode)) < 0) {
    printf("net: mode= is required (responder, ping, udp-ping, udp-send, udp-recv)\n");
    test_exit(TEST_ERROR);
  }
  if (opt_ip("ip", &ip, 1) < 0 || opt_ip("gw", &gw, 0) < 0) test_exit(TEST_ERROR);
  unsigned prefix = (unsigned)pvkvm_cmdline_ull("mask", 24);
  unsigned index = (unsigned)pvkvm_cmdline_ull("nic", 0);
  uint64_t vif_wait = pvkvm_cmdline_ull("vif_wait", 60) * NSEC_PER_SEC;
  if (prefix > 32) {
    printf("net: bad mask=%u\n", prefix);
    test_exit(TEST_ERROR);
  }
  /* No REQUIRE_XEN: the emulated NE2000 works without Xen (under QEMU, say). */
  int rc = net_wait_present(index, vif_wait);
  if (rc < 0) {
    printf("net: no NIC %u: %d\n", index, rc);
    test_exit(TEST_FAILURE);
  }
  rc = net_open(index, &nic);
  if (rc < 0) {
    printf("net: opening NIC %u failed: %d\n", index, rc);
    test_exit(TEST_FAILURE);
  }
  if (strcmp(nic->ops->name, "netfront") == 0) netfront_print_info(nic->priv); /* what was negotiated */
  netstack_init(&ns, nic, ip, prefix, gw);
  char ipbuf[16];
  net_format_ip(ipbuf, ip);
  printf("net: nic %s mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%s mask=%u driver=%s\n", nic->name, nic->mac[0],
         nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5], ipbuf, prefix, nic->ops->name);

  enum pvkvm_test_result r;
  if (strcmp(mode, "responder") == 0) r = net_mode_responder(&ns);
  else if (strcmp(mode, "ping") == 0) r = net_mode_ping(&ns, 0);
  else if (strcmp(mode, "udp-ping") == 0) r = net_mode_ping(&ns, 1);
  else if (strcmp(mode, "udp-send") == 0) r = net_mode_udp_send(&ns);
  else if (strcmp(mode, "udp-recv") == 0) r = net_mode_udp_recv(&ns);
  else {
    printf("net: unknown mode=%s\n", mode);
    r = TEST_ERROR;
  }
  print_stats();
  rc = net_close(nic);
  printf("net: close: %d\n", rc);
  test_exit(r);
}
