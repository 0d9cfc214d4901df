/* udp_recv.c: mode=udp-recv — counts numbered datagrams straight from the RX path (a socket
 * handler, no queue): received, lost, reordered, duplicates, throughput. */
#include "network.h"

#define MAX_COUNT (4u << 20) /* sequence numbers tracked in the bitmap */

static uint8_t seen[MAX_COUNT / 8];

struct recv_state {
  uint32_t count;        /* expected (count=) */
  uint64_t received, duplicates, reordered, bad, bytes;
  uint32_t max_seq;
  int any, marker;
  uint32_t sent;         /* from the marker */
  uint64_t first_ns, last_ns;
};

static void on_datagram(struct udp_sock *sk, uint32_t src, uint16_t sport, const uint8_t *d, size_t len) {
  struct recv_state *st = sk->arg;
  if (len < NETWORK_HDR || net_get32(d) != NETWORK_MAGIC) {
    st->bad++;
    return;
  }
  uint32_t kind = net_get32(d + 4), seq = net_get32(d + 8);
  if (kind == NETWORK_KIND_DONE) {
    st->marker = 1;
    st->sent = seq;
    return;
  }
  if (kind != NETWORK_KIND_DATA || seq >= MAX_COUNT) {
    st->bad++;
    return;
  }
  uint64_t now = pvkvm_time_ns();
  if (seen[seq / 8] & (1u << (seq % 8))) {
    st->duplicates++;
    return;
  }
  seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
  if (!st->any) st->first_ns = now;
  else if (seq < st->max_seq) st->reordered++;
  if (!st->any || seq > st->max_seq) st->max_seq = seq;
  st->any = 1;
  st->last_ns = now;
  st->received++;
  st->bytes += len;
}

enum pvkvm_test_result net_mode_udp_recv(struct netstack *ns) {
  static struct udp_sock sk;
  static struct recv_state st;
  uint16_t port = (uint16_t)pvkvm_cmdline_ull("port", NETWORK_DEFAULT_PORT);
  st.count = (uint32_t)pvkvm_cmdline_ull("count", 1000);
  uint64_t timeout = pvkvm_cmdline_ull("timeout", 120) * NSEC_PER_SEC;
  if (st.count > MAX_COUNT) {
    printf("net: count is at most %u\n", MAX_COUNT);
    return TEST_ERROR;
  }
  if (udp_bind(ns, &sk, port, on_datagram, &st) < 0) return TEST_ERROR;
  printf("net: listening on UDP port %u for %u datagrams\n", port, st.count);
  uint64_t deadline = deadline_after(timeout), linger = PVKVM_FOREVER;
  for (;;) {
    uint64_t now = pvkvm_time_ns();
    if (st.received >= st.count || now >= deadline || now >= linger) break;
    /* After the marker, stragglers still in the rings get a moment. */
    if (st.marker && linger == PVKVM_FOREVER) linger = now + 100 * NSEC_PER_MSEC;
    uint64_t until = linger < deadline ? linger : deadline;
    if (netstack_poll(ns, until - now) < 0) break;
  }
  uint32_t sent = st.marker ? st.sent : st.count;
  uint64_t lost = sent > st.received ? sent - st.received : 0;
  uint64_t elapsed = st.last_ns > st.first_ns ? st.last_ns - st.first_ns : 0, us = elapsed / 1000 ? elapsed / 1000 : 1;
  printf("net: udp-recv received=%llu lost=%llu reordered=%llu duplicates=%llu bad=%llu sent=%u marker=%d bytes=%llu "
         "elapsed_us=%llu pps=%llu mbps=%llu.%03llu\n",
         (unsigned long long)st.received, (unsigned long long)lost, (unsigned long long)st.reordered,
         (unsigned long long)st.duplicates, (unsigned long long)st.bad, sent, st.marker,
         (unsigned long long)st.bytes, (unsigned long long)us, (unsigned long long)(st.received * 1000000ull / us),
         (unsigned long long)(st.bytes * 8 / us), (unsigned long long)(st.bytes * 8000 / us % 1000));
  return st.received ? TEST_SUCCESS : TEST_FAILURE;
}
