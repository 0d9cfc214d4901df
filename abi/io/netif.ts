// netif.ts: the network-device ring protocol (io/netif.h) — TX/RX request and response layouts,
// their flags, the extra-info segments (GSO, multicast), response statuses, and the xenstore keys
// both ends of a vif write during the handshake. The layouts are the same in both ring ABIs (no
// u64 fields), so one definition serves x86_64 and x86_32 frontends.
import { defineConstants, defineStrings, defineStruct } from '../layout.ts';
import { defineRing } from './ring.ts';

export const NETIF_LIMITS = defineConstants('netif limits', 'XEN_NETIF_', {
  /** Slots a backend must accept for one packet (a frontend may use fewer, never more). */
  NR_SLOTS_MIN: 18,
  /** A TX request's `size` is a u16: the largest packet one chain can describe. */
  MAX_TX_SIZE: 0xffff,
});

export const NETTXF = defineConstants('netif_tx_request.flags bits', 'NETTXF_', {
  /** The packet's checksum is not filled in; the backend (or the receiver) must compute it. */
  csum_blank: 1 << 0,
  /** The packet's checksum has been checked already. */
  data_validated: 1 << 1,
  /** Another request of the same packet follows. */
  more_data: 1 << 2,
  /** A netif_extra_info segment follows in the next slot. */
  extra_info: 1 << 3,
});

export const NETRXF = defineConstants('netif_rx_response.flags bits', 'NETRXF_', {
  data_validated: 1 << 0,
  csum_blank: 1 << 1,
  more_data: 1 << 2,
  extra_info: 1 << 3,
  gso_prefix: 1 << 4,
});

export const NETIF_EXTRA_TYPE = defineConstants('netif_extra_info.type', 'XEN_NETIF_EXTRA_TYPE_', {
  NONE: 0, GSO: 1, MCAST_ADD: 2, MCAST_DEL: 3, HASH: 4, MAX: 5,
});

export const NETIF_EXTRA_FLAG = defineConstants('netif_extra_info.flags bits', 'XEN_NETIF_EXTRA_FLAG_', {
  /** Another extra-info segment follows this one. */
  MORE: 1 << 0,
});

export const NETIF_GSO_TYPE = defineConstants('netif_extra_info.u.gso.type', 'XEN_NETIF_GSO_TYPE_', {
  NONE: 0, TCPV4: 1, TCPV6: 2,
});

export const NETIF_RSP = defineConstants('netif response status', 'NETIF_RSP_', {
  DROPPED: -2, ERROR: -1, OKAY: 0,
  /** Fills a TX slot that held an extra-info segment: it has no response of its own. */
  NULL: 1,
});

/** One slot of a packet on the TX ring; a packet is a chain linked by NETTXF_more_data. */
export const NetifTxRequest = defineStruct('netif_tx_request', 12, [
  ['gref', 0, 'u32'], ['offset', 4, 'u16'], ['flags', 6, 'u16'], ['id', 8, 'u16'], ['size', 10, 'u16'],
]);

/**
 * An extra-info segment (the GSO view of Xen's union). It takes a whole ring slot after the
 * request that set NETTXF_extra_info (TX) or the response that set NETRXF_extra_info (RX).
 */
export const NetifExtraInfo = defineStruct('netif_extra_info', 8, [
  ['type', 0, 'u8'], ['flags', 1, 'u8'],
  ['u.gso.size', 2, 'u16'], ['u.gso.type', 4, 'u8'], ['u.gso.pad', 5, 'u8'], ['u.gso.features', 6, 'u16'],
]);

/** The multicast view of the same union (XEN_NETIF_EXTRA_TYPE_MCAST_ADD / _DEL). */
export const NetifExtraInfoMcast = defineStruct('netif_extra_info_mcast', 8, [
  ['type', 0, 'u8'], ['flags', 1, 'u8'], ['u.mcast.addr', 2, 'u8', 6],
], { xenName: 'netif_extra_info' });

export const NetifTxResponse = defineStruct('netif_tx_response', 4, [
  ['id', 0, 'u16'], ['status', 2, 'i16'],
]);

/** A buffer the frontend posts for the backend to copy a received packet into. */
export const NetifRxRequest = defineStruct('netif_rx_request', 8, [
  ['id', 0, 'u16'], ['pad', 2, 'u16'], ['gref', 4, 'u32'],
]);

/** `status` is the byte count written (> 0) or a NETIF_RSP_ error. */
export const NetifRxResponse = defineStruct('netif_rx_response', 8, [
  ['id', 0, 'u16'], ['offset', 2, 'u16'], ['flags', 4, 'u16'], ['status', 6, 'i16'],
]);

/** Xen's unions have req and rsp; the extra-info view shares the slot (no longer than either). */
export const NetifTxRing = defineRing('netif_tx', 'x86_64', [
  ['req', NetifTxRequest], ['extra', NetifExtraInfo], ['rsp', NetifTxResponse],
]);
export const NetifRxRing = defineRing('netif_rx', 'x86_64', [
  ['req', NetifRxRequest], ['extra', NetifExtraInfo], ['rsp', NetifRxResponse],
]);

/**
 * Xenstore keys of a vif. Backend directory: /local/domain/0/backend/vif/DOMID/HANDLE; frontend:
 * /local/domain/DOMID/device/vif/HANDLE. A multi-queue frontend puts the ring keys under
 * `queue-N/` instead of the device directory.
 */
export const NETIF_XS_KEY = defineStrings('netif xenstore keys', 'NETIF_XS_', {
  // written by the backend
  FEATURE_SG: 'feature-sg',
  FEATURE_RX_COPY: 'feature-rx-copy',
  FEATURE_RX_FLIP: 'feature-rx-flip',
  FEATURE_GSO_TCPV4: 'feature-gso-tcpv4',
  FEATURE_GSO_TCPV6: 'feature-gso-tcpv6',
  FEATURE_RX_NOTIFY_BACK: 'feature-rx-notify',
  FEATURE_NO_CSUM_OFFLOAD: 'feature-no-csum-offload',
  FEATURE_IPV6_CSUM_OFFLOAD: 'feature-ipv6-csum-offload',
  MULTI_QUEUE_MAX_QUEUES: 'multi-queue-max-queues',
  MAC: 'mac',
  HANDLE: 'handle',
  BRIDGE: 'bridge',
  RATE: 'rate',
  IP: 'ip',
  /**
   * pvkvm extension (blkif's key, not in Xen's netif.h): written by both ends, it means the
   * frontend reuses its granted buffers for the connection's life and the backend keeps them mapped.
   */
  FEATURE_PERSISTENT: 'feature-persistent',
  // written by the frontend
  TX_RING_REF: 'tx-ring-ref',
  RX_RING_REF: 'rx-ring-ref',
  EVENT_CHANNEL: 'event-channel',
  EVENT_CHANNEL_TX: 'event-channel-tx',
  EVENT_CHANNEL_RX: 'event-channel-rx',
  REQUEST_RX_COPY: 'request-rx-copy',
  MULTI_QUEUE_NUM_QUEUES: 'multi-queue-num-queues',
}, { inXenHeaders: false });
