/* network.h: the network guest's modes (one file each) and what they share. */
#ifndef NETWORK_GUEST_H
#define NETWORK_GUEST_H
#include <pvkvm/pvkvm.h>
#include <pvkvm/netstack.h>

#define NETWORK_MAGIC 0x50564e54u /* "PVNT" */
#define NETWORK_KIND_DATA 0u
#define NETWORK_KIND_DONE 1u
#define NETWORK_HDR 16u
#define NETWORK_DEFAULT_PORT 7000u

enum pvkvm_test_result net_mode_responder(struct netstack *ns);
enum pvkvm_test_result net_mode_ping(struct netstack *ns, int udp); /* udp: mode=udp-ping */
enum pvkvm_test_result net_mode_udp_send(struct netstack *ns);
enum pvkvm_test_result net_mode_udp_recv(struct netstack *ns);
/* Ping peer until it answers or timeout_ns passes: 0 or -errno. */
int net_wait_peer(struct netstack *ns, uint32_t peer, uint64_t timeout_ns);
int net_opt_peer(uint32_t *peer);

#endif
