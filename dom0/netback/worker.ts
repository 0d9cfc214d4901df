// worker.ts: netback's data-path worker entry (bundled as dist/netback-worker.js).
import { runNetWorker } from './worker/loop.ts';

runNetWorker();
