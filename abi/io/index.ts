// index.ts: the device-protocol ABI (Xen's io/ headers): one AbiModule per generated header under
// domU-sdk/include/xen-abi/io/. Code that uses a protocol imports its module directly.
import type { AbiModule } from '../index.ts';
import { RING_MACROS, XEN_IO_PROTO } from './ring.ts';
import {
  BLKIF_OP, BLKIF_LIMITS, BLKIF_RSP, BLKIF_DISCARD, VDISK, BLKIF_UNITS, BlkifRequestSegment, BlkifRequest,
  BlkifRequestDiscard, BlkifRequestIndirect, BlkifResponse, BlkifX86_32Request, BlkifX86_32RequestDiscard,
  BlkifX86_32RequestIndirect, BlkifX86_32Response, BlkifRing, BlkifX86_32Ring,
} from './blkif.ts';
import { XENCONS, XENCONSOLE, XenconsInterface } from './console.ts';
import { XS_TYPE, XS_WATCH, XS_WRITE, XENSTORE, XsdSockmsg, XenstoreDomainInterface, XSD_ERROR_TABLE } from './xs-wire.ts';
import { XENBUS_STATE } from './xenbus.ts';
import {
  NETIF_LIMITS, NETTXF, NETRXF, NETIF_EXTRA_TYPE, NETIF_EXTRA_FLAG, NETIF_GSO_TYPE, NETIF_RSP, NETIF_XS_KEY,
  NetifTxRequest, NetifExtraInfo, NetifExtraInfoMcast, NetifTxResponse, NetifRxRequest, NetifRxResponse,
  NetifTxRing, NetifRxRing,
} from './netif.ts';

export const IO_MODULES: readonly AbiModule[] = [
  { header: 'io/ring.h', constants: [], strings: [XEN_IO_PROTO], structs: [], fragments: [RING_MACROS] },
  {
    header: 'io/blkif.h', constants: [BLKIF_OP, BLKIF_LIMITS, BLKIF_RSP, BLKIF_DISCARD, VDISK, BLKIF_UNITS],
    structs: [BlkifRequestSegment, BlkifRequest, BlkifRequestDiscard, BlkifRequestIndirect, BlkifResponse],
    compatStructs: [BlkifX86_32Request, BlkifX86_32RequestDiscard, BlkifX86_32RequestIndirect, BlkifX86_32Response],
    fragments: [BlkifRing, BlkifX86_32Ring],
  },
  { header: 'io/console.h', constants: [XENCONS, XENCONSOLE], structs: [XenconsInterface] },
  {
    header: 'io/xs-wire.h', constants: [XS_TYPE, XS_WATCH, XENSTORE], strings: [XS_WRITE],
    structs: [XsdSockmsg, XenstoreDomainInterface], fragments: [XSD_ERROR_TABLE],
  },
  { header: 'io/xenbus.h', constants: [XENBUS_STATE], structs: [] },
  {
    header: 'io/netif.h',
    constants: [NETIF_LIMITS, NETTXF, NETRXF, NETIF_EXTRA_TYPE, NETIF_EXTRA_FLAG, NETIF_GSO_TYPE, NETIF_RSP],
    strings: [NETIF_XS_KEY],
    structs: [NetifTxRequest, NetifExtraInfo, NetifExtraInfoMcast, NetifTxResponse, NetifRxRequest, NetifRxResponse],
    fragments: [NetifTxRing, NetifRxRing],
  },
];
