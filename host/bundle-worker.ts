// bundle-worker.ts: start a worker thread on one of pvkvm's self-contained bundles (dist/*.js).
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Node hands a worker its parent's command-line options. A bundle needs none of the module hooks
 * among them (`--import`, `--loader`, `--require`, `--experimental-loader`), and a parent that
 * loads TypeScript through such a hook (a test runner, a user's embedding) would make every
 * worker load it again: most of a second per vCPU or backend thread. The other options (heap
 * sizes, source maps) still pass on.
 */
const HOOK_FLAGS = ['--import', '--loader', '--experimental-loader', '--require', '-r'];

function withoutHooks(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const flag = HOOK_FLAGS.find((f) => a === f || a.startsWith(`${f}=`));
    if (flag === undefined) out.push(a);
    else if (a === flag) i++; // the value came as the next word
  }
  return out;
}

export function spawnBundleWorker(url: URL, options: WorkerOptions = {}): Worker {
  return new Worker(url, { execArgv: withoutHooks(process.execArgv), ...options });
}
