// worker.ts: blkback's data-path worker entry (bundled as dist/blkback-worker.js).
import { runDataPath } from '../backend-sdk/worker/runtime.ts';
import { BlkHandler, type BlkWorkerConfig } from './handler.ts';

runDataPath<BlkWorkerConfig>((env) => new BlkHandler(env));
