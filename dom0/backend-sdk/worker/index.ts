// index.ts: the backend SDK's worker-side API — what a backend's data-path worker imports.
export { PAGE_SIZE } from '../context.ts';
export { runDataPath, type DataPathEnv, type RingHandler } from './runtime.ts';
export { GrantClient, DataPathStopped, type GrantMapping } from './grants.ts';
export { GuestMemory } from './guest-memory.ts';
export { BackRing, RingOverflowError, ringSize } from '../ring.ts';
export * from '../blkif.ts';
export { resolveBatch, jobResponse, isWrite, type BlkJob, type BlkLimits, type GuestSpan } from '../blkif-requests.ts';
export type { RingProtocol } from '../transport.ts';
