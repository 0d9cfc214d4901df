/* Generated from abi/index.ts (ABI_MODULES "io/netif.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_IO_NETIF_H
#define PVKVM_XEN_ABI_IO_NETIF_H

#include <stdint.h>
#include "ring.h"

/* netif limits */
#define XEN_NETIF_NR_SLOTS_MIN 18
#define XEN_NETIF_MAX_TX_SIZE  0xffff

/* netif_tx_request.flags bits */
#define NETTXF_csum_blank     1
#define NETTXF_data_validated 2
#define NETTXF_more_data      4
#define NETTXF_extra_info     8

/* netif_rx_response.flags bits */
#define NETRXF_data_validated 1
#define NETRXF_csum_blank     2
#define NETRXF_more_data      4
#define NETRXF_extra_info     8
#define NETRXF_gso_prefix     16

/* netif_extra_info.type */
#define XEN_NETIF_EXTRA_TYPE_NONE      0
#define XEN_NETIF_EXTRA_TYPE_GSO       1
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD 2
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL 3
#define XEN_NETIF_EXTRA_TYPE_HASH      4
#define XEN_NETIF_EXTRA_TYPE_MAX       5

/* netif_extra_info.flags bits */
#define XEN_NETIF_EXTRA_FLAG_MORE 1

/* netif_extra_info.u.gso.type */
#define XEN_NETIF_GSO_TYPE_NONE  0
#define XEN_NETIF_GSO_TYPE_TCPV4 1
#define XEN_NETIF_GSO_TYPE_TCPV6 2

/* netif response status */
#define NETIF_RSP_DROPPED (-2)
#define NETIF_RSP_ERROR   (-1)
#define NETIF_RSP_OKAY    0
#define NETIF_RSP_NULL    1

/* netif xenstore keys */
#define NETIF_XS_FEATURE_SG                "feature-sg"
#define NETIF_XS_FEATURE_RX_COPY           "feature-rx-copy"
#define NETIF_XS_FEATURE_RX_FLIP           "feature-rx-flip"
#define NETIF_XS_FEATURE_GSO_TCPV4         "feature-gso-tcpv4"
#define NETIF_XS_FEATURE_GSO_TCPV6         "feature-gso-tcpv6"
#define NETIF_XS_FEATURE_RX_NOTIFY_BACK    "feature-rx-notify"
#define NETIF_XS_FEATURE_NO_CSUM_OFFLOAD   "feature-no-csum-offload"
#define NETIF_XS_FEATURE_IPV6_CSUM_OFFLOAD "feature-ipv6-csum-offload"
#define NETIF_XS_MULTI_QUEUE_MAX_QUEUES    "multi-queue-max-queues"
#define NETIF_XS_MAC                       "mac"
#define NETIF_XS_HANDLE                    "handle"
#define NETIF_XS_BRIDGE                    "bridge"
#define NETIF_XS_RATE                      "rate"
#define NETIF_XS_IP                        "ip"
#define NETIF_XS_FEATURE_PERSISTENT        "feature-persistent"
#define NETIF_XS_TX_RING_REF               "tx-ring-ref"
#define NETIF_XS_RX_RING_REF               "rx-ring-ref"
#define NETIF_XS_EVENT_CHANNEL             "event-channel"
#define NETIF_XS_EVENT_CHANNEL_TX          "event-channel-tx"
#define NETIF_XS_EVENT_CHANNEL_RX          "event-channel-rx"
#define NETIF_XS_REQUEST_RX_COPY           "request-rx-copy"
#define NETIF_XS_MULTI_QUEUE_NUM_QUEUES    "multi-queue-num-queues"

/* netif_tx_request: 12 bytes (Xen: struct netif_tx_request). */
struct netif_tx_request {
    uint32_t gref;
    uint16_t offset;
    uint16_t flags;
    uint16_t id;
    uint16_t size;
};
_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request: size");
_Static_assert(__builtin_offsetof(struct netif_tx_request, gref) == 0, "netif_tx_request: offset of gref");
_Static_assert(__builtin_offsetof(struct netif_tx_request, offset) == 4, "netif_tx_request: offset of offset");
_Static_assert(__builtin_offsetof(struct netif_tx_request, flags) == 6, "netif_tx_request: offset of flags");
_Static_assert(__builtin_offsetof(struct netif_tx_request, id) == 8, "netif_tx_request: offset of id");
_Static_assert(__builtin_offsetof(struct netif_tx_request, size) == 10, "netif_tx_request: offset of size");

/* netif_extra_info: 8 bytes (Xen: struct netif_extra_info). */
struct netif_extra_info {
    uint8_t type;
    uint8_t flags;
    uint16_t u_gso_size;
    uint8_t u_gso_type;
    uint8_t u_gso_pad;
    uint16_t u_gso_features;
};
_Static_assert(sizeof(struct netif_extra_info) == 8, "netif_extra_info: size");
_Static_assert(__builtin_offsetof(struct netif_extra_info, type) == 0, "netif_extra_info: offset of type");
_Static_assert(__builtin_offsetof(struct netif_extra_info, flags) == 1, "netif_extra_info: offset of flags");
_Static_assert(__builtin_offsetof(struct netif_extra_info, u_gso_size) == 2, "netif_extra_info: offset of u_gso_size");
_Static_assert(__builtin_offsetof(struct netif_extra_info, u_gso_type) == 4, "netif_extra_info: offset of u_gso_type");
_Static_assert(__builtin_offsetof(struct netif_extra_info, u_gso_pad) == 5, "netif_extra_info: offset of u_gso_pad");
_Static_assert(__builtin_offsetof(struct netif_extra_info, u_gso_features) == 6, "netif_extra_info: offset of u_gso_features");

/* netif_extra_info_mcast: 8 bytes (Xen: struct netif_extra_info). */
struct netif_extra_info_mcast {
    uint8_t type;
    uint8_t flags;
    uint8_t u_mcast_addr[6];
};
_Static_assert(sizeof(struct netif_extra_info_mcast) == 8, "netif_extra_info_mcast: size");
_Static_assert(__builtin_offsetof(struct netif_extra_info_mcast, type) == 0, "netif_extra_info_mcast: offset of type");
_Static_assert(__builtin_offsetof(struct netif_extra_info_mcast, flags) == 1, "netif_extra_info_mcast: offset of flags");
_Static_assert(__builtin_offsetof(struct netif_extra_info_mcast, u_mcast_addr) == 2, "netif_extra_info_mcast: offset of u_mcast_addr");

/* netif_tx_response: 4 bytes (Xen: struct netif_tx_response). */
struct netif_tx_response {
    uint16_t id;
    int16_t status;
};
_Static_assert(sizeof(struct netif_tx_response) == 4, "netif_tx_response: size");
_Static_assert(__builtin_offsetof(struct netif_tx_response, id) == 0, "netif_tx_response: offset of id");
_Static_assert(__builtin_offsetof(struct netif_tx_response, status) == 2, "netif_tx_response: offset of status");

/* netif_rx_request: 8 bytes (Xen: struct netif_rx_request). */
struct netif_rx_request {
    uint16_t id;
    uint16_t pad;
    uint32_t gref;
};
_Static_assert(sizeof(struct netif_rx_request) == 8, "netif_rx_request: size");
_Static_assert(__builtin_offsetof(struct netif_rx_request, id) == 0, "netif_rx_request: offset of id");
_Static_assert(__builtin_offsetof(struct netif_rx_request, pad) == 2, "netif_rx_request: offset of pad");
_Static_assert(__builtin_offsetof(struct netif_rx_request, gref) == 4, "netif_rx_request: offset of gref");

/* netif_rx_response: 8 bytes (Xen: struct netif_rx_response). */
struct netif_rx_response {
    uint16_t id;
    uint16_t offset;
    uint16_t flags;
    int16_t status;
};
_Static_assert(sizeof(struct netif_rx_response) == 8, "netif_rx_response: size");
_Static_assert(__builtin_offsetof(struct netif_rx_response, id) == 0, "netif_rx_response: offset of id");
_Static_assert(__builtin_offsetof(struct netif_rx_response, offset) == 2, "netif_rx_response: offset of offset");
_Static_assert(__builtin_offsetof(struct netif_rx_response, flags) == 4, "netif_rx_response: offset of flags");
_Static_assert(__builtin_offsetof(struct netif_rx_response, status) == 6, "netif_rx_response: offset of status");

/* netif_tx ring, x86_64 ABI: 12-byte entries (Xen: DEFINE_RING_TYPES(netif_tx, …)). */
union netif_tx_sring_entry {
    struct netif_tx_request req;
    struct netif_extra_info extra;
    struct netif_tx_response rsp;
};
DEFINE_RING_STRUCTS(netif_tx);
_Static_assert(sizeof(union netif_tx_sring_entry) == 12, "netif_tx ring: entry size");
_Static_assert(__builtin_offsetof(struct netif_tx_sring, ring) == 64, "netif_tx ring: entries follow the header");
_Static_assert(XEN_CONST_RING_SIZE(netif_tx, 4096) == 256, "netif_tx ring: entries in one page");

/* netif_rx ring, x86_64 ABI: 8-byte entries (Xen: DEFINE_RING_TYPES(netif_rx, …)). */
union netif_rx_sring_entry {
    struct netif_rx_request req;
    struct netif_extra_info extra;
    struct netif_rx_response rsp;
};
DEFINE_RING_STRUCTS(netif_rx);
_Static_assert(sizeof(union netif_rx_sring_entry) == 8, "netif_rx ring: entry size");
_Static_assert(__builtin_offsetof(struct netif_rx_sring, ring) == 64, "netif_rx ring: entries follow the header");
_Static_assert(XEN_CONST_RING_SIZE(netif_rx, 4096) == 256, "netif_rx ring: entries in one page");

#endif /* PVKVM_XEN_ABI_IO_NETIF_H */
