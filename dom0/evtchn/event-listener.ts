// event-listener.ts: dom0's control-plane event channels — call a handler on the main thread
// whenever a guest signals a port bound to dom0 (xenstore and console rings). Data-path backends
// run their own epoll threads instead (docs/performance.md §3); this is for low-rate control traffic.
import { type Worker } from 'node:worker_threads';
import { spawnBundleWorker } from '../../host/bundle-worker.ts';
import { libc, EFD_CLOEXEC, EFD_NONBLOCK } from '../../host/libc.ts';
import { WatchTable } from './watch-table.ts';

const ONE = new BigUint64Array([1n]);

export class EventChannelListener {
  private readonly table = new WatchTable();
  private readonly handlers = new Map<number, () => void>();
  private readonly worker: Worker;
  private readonly wakeFd: number;

  constructor(workerUrl: URL) {
    this.wakeFd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (this.wakeFd < 0) throw new Error('eventfd failed');
    this.table.setWakeFd(this.wakeFd);
    this.table.onChange = () => { libc.write(this.wakeFd, ONE, 8); };
    this.worker = spawnBundleWorker(workerUrl, { workerData: { sab: this.table.sab } });
    this.worker.on('message', (fired: number[]) => {
      for (const i of fired) this.handlers.get(i)?.();
    });
    this.worker.unref();
  }

  /** Call `onKick` whenever `kickFd` is signalled. Takes ownership of the fd; returns a handle. */
  watch(kickFd: number, onKick: () => void): number {
    const i = this.table.add(kickFd);
    if (i < 0) {
      libc.close(kickFd);
      throw new Error('too many dom0 event channels');
    }
    this.handlers.set(i, onKick);
    return i;
  }

  /** Stop watching; the event thread closes the fd. */
  unwatch(handle: number): void {
    this.handlers.delete(handle);
    this.table.retire(handle);
  }

  async close(): Promise<void> {
    this.table.stop();
    await this.worker.terminate();
    libc.close(this.wakeFd);
  }
}
