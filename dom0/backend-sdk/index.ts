// index.ts: the backend SDK's main-thread API — what a third-party backend imports to publish a
// PV device over xenbus and run its data path on a worker (docs/backend-sdk.md).
export { PAGE_SIZE } from './context.ts';
export type { BackendContext, GrantService, GrantMapOp, GrantMapResult, ChannelService, BoundChannel, XenbusStore } from './context.ts';
export { PvDevice, type DeviceDriver, type FrontendLink, type PvDeviceEvents } from './device.ts';
export { RingDriver, type RingDriverOptions } from './ring-device.ts';
export { DataPath, type DataPathOptions } from './data-path.ts';
export { readRingTransport, readNamedRings, TransportError, type RingTransport, type RingProtocol, type NamedRingsSpec } from './transport.ts';
export { mapGuestMemory, type GuestMapping } from '../../host/guest-memory-file.ts';
export { createDevicePair, removeDevicePair, type DevicePairSpec } from './xenbus/device-pair.ts';
export { watchBackends } from './xenbus/watch-backends.ts';
export { XenbusState } from '../../abi/io/xenbus.ts';
