/*
 * pvkvm/netstack.h: a small IPv4 stack over a <pvkvm/net.h> NIC — Ethernet, ARP (a small cache
 * with a timeout; answers requests for our address), IPv4 (no options sent, fragments dropped),
 * ICMP echo (answers pings, sends them and times the replies) and UDP (sockets bound to a port,
 * sendto/recvfrom, checksums both ways). One thread of control: everything happens inside the
 * calls below (netstack_poll processes what arrived), nothing in interrupt handlers.
 *
 *   static struct netstack ns;  static struct udp_sock sk;
 *   netstack_init(&ns, nic, NET_IP(10,0,0,2), 24, 0);
 *   udp_bind(&ns, &sk, 7000, NULL, NULL);                     // queued: read with udp_recvfrom
 *   udp_sendto(&sk, NET_IP(10,0,0,3), 7000, "hi", 2, 0);      // resolves the MAC first (ARP)
 *   n = udp_recvfrom(&sk, buf, sizeof buf, &ip, &port, 1000000000ull);
 *   icmp_ping(&ns, NET_IP(10,0,0,3), 1, 1, 56, 1000000000ull, &rtt_ns);
 *
 * Addresses and ports are host byte order in the API. Every received field is untrusted: each
 * parser checks lengths against the bytes it was given and never reads past them; a bad frame is
 * counted (struct netstack_stats) and dropped. The parse/build functions need nothing but memory
 * and are compiled for the host by test/net-stack.test.ts.
 */
#ifndef PVKVM_NETSTACK_H
#define PVKVM_NETSTACK_H
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/net.h>

#define NET_IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define IP_PROTO_ICMP 1
#define IP_PROTO_UDP 17
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_LEN 28
#define IPV4_HLEN 20
#define UDP_HLEN 8
#define ICMP_HLEN 8

#define NETSTACK_FRAME_MAX 1514u      /* what the stack sends and receives (MTU 1500) */
#define NETSTACK_UDP_MAX (NET_DEFAULT_MTU - IPV4_HLEN - UDP_HLEN) /* 1472 */
#define NETSTACK_ARP_ENTRIES 16
#define NETSTACK_ARP_TTL_NS 60000000000ULL   /* an entry is trusted this long */
#define NETSTACK_ARP_RETRY_NS 200000000ULL   /* resend an unanswered request */
#define NETSTACK_UDP_QLEN 32                 /* datagrams a socket without a handler queues */
#define NETSTACK_MAX_SOCKS 8
#define NETSTACK_POLL_BUDGET 64              /* frames per netstack_poll */

/* Why a frame was dropped (parse results are 0 or one of these). */
enum net_parse_err { NET_OK = 0, NET_E_SHORT = -1, NET_E_BADHDR = -2, NET_E_CSUM = -3, NET_E_FRAG = -4, NET_E_UNSUPP = -5 };

static inline uint16_t net_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t net_get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void net_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void net_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* The Internet checksum (RFC 1071): add bytes into a running sum (even-length pieces but for the
 * last), fold, complement. inet_csum over a header that holds a correct checksum is 0. */
uint32_t inet_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t inet_csum_fold(uint32_t sum);
uint16_t inet_csum(const void *data, size_t len);
/* The UDP/TCP pseudo-header's sum. */
uint32_t inet_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* Views into a received buffer (pointers into it; lengths already checked). */
struct eth_view { const uint8_t *dst, *src; uint16_t type; const uint8_t *payload; size_t len; };
struct arp_view { uint16_t op; uint8_t sha[6]; uint32_t spa; uint8_t tha[6]; uint32_t tpa; };
struct ipv4_view { uint8_t proto, ttl; uint16_t id; uint32_t src, dst; size_t hlen; const uint8_t *payload; size_t len; };
struct icmp_view { uint8_t type, code; uint16_t id, seq; const uint8_t *data; size_t len; };
struct udp_view { uint16_t sport, dport; const uint8_t *data; size_t len; };

int eth_parse(const uint8_t *frame, size_t len, struct eth_view *v);
size_t eth_build(uint8_t *frame, const uint8_t dst[6], const uint8_t src[6], uint16_t type); /* 14 */
int arp_parse(const uint8_t *p, size_t len, struct arp_view *a);        /* Ethernet/IPv4 only */
size_t arp_build(uint8_t *p, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa);
int ipv4_parse(const uint8_t *p, size_t len, struct ipv4_view *v);      /* checksum checked */
size_t ipv4_build(uint8_t *p, uint8_t proto, uint32_t src, uint32_t dst, uint16_t id, uint8_t ttl, size_t payload_len);
int icmp_parse(const uint8_t *p, size_t len, struct icmp_view *v);      /* checksum checked */
size_t icmp_echo_build(uint8_t *p, uint8_t type, uint16_t id, uint16_t seq, const void *data, size_t len);
int udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct udp_view *v); /* checksum if set */
size_t udp_build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const void *data, size_t len);

/* "a.b.c.d" → host order: 0, or -XEN_EINVAL. net_format_ip writes "a.b.c.d" (buf >= 16). */
int net_parse_ip(const char *s, uint32_t *ip);
void net_format_ip(char *buf, uint32_t ip);

struct netstack_stats {
  uint64_t rx_frames, rx_not_ours, rx_short, rx_bad_header, rx_bad_csum, rx_fragments, rx_unsupported;
  uint64_t arp_requests_answered, arp_replies_learned, arp_requests_sent;
  uint64_t icmp_echo_answered, icmp_echo_replies;
  uint64_t udp_delivered, udp_no_port, udp_queue_full;
  uint64_t tx_frames, tx_errors;
};

struct udp_sock;
typedef void (*udp_handler_t)(struct udp_sock *sk, uint32_t src_ip, uint16_t src_port, const uint8_t *data, size_t len);

struct udp_dgram {
  uint32_t src_ip;
  uint16_t src_port;
  uint16_t len;
  uint8_t data[NETSTACK_UDP_MAX];
};

struct udp_sock {
  struct netstack *ns;
  uint16_t port;
  udp_handler_t on_recv; /* called inside netstack_poll with the datagram in place; else queued */
  void *arg;
  unsigned head, count;  /* the queue */
  uint64_t received, dropped;
  struct udp_dgram q[NETSTACK_UDP_QLEN];
};

struct arp_entry {
  uint32_t ip;
  uint8_t mac[6];
  uint8_t valid;
  uint64_t expires;
};

struct netstack {
  struct net_dev *dev;
  uint8_t mac[6];
  uint32_t ip, mask, gw;
  uint16_t ip_id;
  int answer_ping;     /* 1 by default */
  int in_input;        /* inside netstack_input: never wait for ARP there */
  struct arp_entry arp[NETSTACK_ARP_ENTRIES];
  unsigned arp_next;   /* the entry to replace next when all are valid */
  struct udp_sock *socks[NETSTACK_MAX_SOCKS];
  struct { uint32_t peer; uint16_t id, seq; int got; uint64_t at_ns; } echo; /* the ping in flight */
  struct netstack_stats stats;
  uint8_t rx[2048];
  uint8_t tx[2048];
};

int netstack_init(struct netstack *ns, struct net_dev *dev, uint32_t ip, unsigned prefix, uint32_t gw);
/* Process one received frame: NET_OK (used or harmlessly ignored) or why it was dropped. */
int netstack_input(struct netstack *ns, const uint8_t *frame, size_t len);
/* Receive and process what is there (up to NETSTACK_POLL_BUDGET frames), waiting up to timeout_ns
 * for the first: how many, or -errno if the NIC failed. Replies go out with one push at the end. */
int netstack_poll(struct netstack *ns, uint64_t timeout_ns);
/* The MAC for an IPv4 address on our subnet (via the gateway otherwise), asking with ARP and
 * waiting up to timeout_ns. 0, -XEN_ETIMEDOUT, -XEN_EAGAIN (inside input: asked, not waited). */
int netstack_resolve(struct netstack *ns, uint32_t ip, uint8_t mac[6], uint64_t timeout_ns);
/* Send an IPv4 packet whose payload is already at ns->tx + 34 (flags: NET_SEND_MORE). */
int netstack_send_ip(struct netstack *ns, uint32_t dst, uint8_t proto, size_t payload_len, unsigned flags);
void netstack_arp_flush(struct netstack *ns);

int udp_bind(struct netstack *ns, struct udp_sock *sk, uint16_t port, udp_handler_t fn, void *arg);
void udp_unbind(struct udp_sock *sk);
/* 0 or -errno; resolves the peer first (up to 2 s). flags: NET_SEND_MORE. */
int udp_sendto(struct udp_sock *sk, uint32_t dst, uint16_t dport, const void *data, size_t len, unsigned flags);
/* The next queued datagram (copied, truncated to len): its length, or -XEN_ETIMEDOUT. */
int udp_recvfrom(struct udp_sock *sk, void *buf, size_t len, uint32_t *src_ip, uint16_t *src_port, uint64_t timeout_ns);

/* One echo request with `size` bytes of data; 0 and *rtt_ns once the reply came, or -errno. */
int icmp_ping(struct netstack *ns, uint32_t dst, uint16_t id, uint16_t seq, size_t size, uint64_t timeout_ns,
              uint64_t *rtt_ns);

#endif
