// nic-wake.ts: the RX wake-up of emulated NICs — a thread epolls the hypervisor's wire ends and has vCPU 0 kicked when a frame arrives.
import { type Worker } from 'node:worker_threads';
import { spawnBundleWorker } from '../../host/bundle-worker.ts';
import { EpollSet, rearmOneShot } from '../../host/epoll.ts';
import { libc, EFD_CLOEXEC, EFD_NONBLOCK, check } from '../../host/libc.ts';

/** The epoll data of the stop eventfd (NIC wires use their index). */
export const NIC_WAKE_STOP = 0xffffffff;

/** What vCPU 0 needs to re-arm a wire's one-shot watch. */
export interface NicWakeInit {
  readonly epfd: number;
  /** Int32 per NIC: 1 while its watch is armed; the watcher clears it as it fires. */
  readonly armed: SharedArrayBuffer;
}

/**
 * Main thread side. Each wire is watched EPOLLONESHOT: one frame arriving after vCPU 0 emptied
 * the socket costs one kick, and a burst costs no more, so a guest streaming frames in is not
 * signalled per frame (it exits on its own register accesses and pulls them then).
 */
export class NicWakeHost {
  readonly init: NicWakeInit;
  private readonly epoll = new EpollSet(4);
  private readonly stopFd: number;
  private worker: Worker | null = null;
  private closed = false;

  constructor(fds: readonly number[]) {
    this.stopFd = check(libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), 'eventfd');
    this.epoll.add(this.stopFd, NIC_WAKE_STOP);
    const armed = new SharedArrayBuffer(4 * Math.max(fds.length, 1));
    const flags = new Int32Array(armed);
    fds.forEach((fd, i) => {
      if (!this.epoll.addOneShot(fd, i)) throw new Error(`epoll refused NIC wire fd ${fd}`);
      flags[i] = 1;
    });
    this.init = { epfd: this.epoll.fd, armed };
  }

  /** Start the watcher; `onFrame` runs on the main thread when a frame waits for a quiet vCPU 0. */
  start(url: URL, name: string, onFrame: () => void): void {
    if (this.closed || this.worker !== null) return;
    const w = spawnBundleWorker(url, { workerData: { epfd: this.epoll.fd, armed: this.init.armed, name } });
    this.worker = w;
    w.unref();
    w.on('message', () => onFrame());
    // Without the watcher frames are still taken at vCPU 0's next exit: degrade, never crash.
    w.on('error', () => {});
    w.once('exit', () => {
      this.worker = null;
      if (this.closed) this.release();
    });
  }

  /** Stop the watcher; the epoll set is closed once it has left epoll_wait (never under it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.worker === null) this.release();
    else libc.write(this.stopFd, new BigUint64Array([1n]), 8);
  }

  private release(): void {
    this.epoll.close();
    libc.close(this.stopFd);
  }
}

/** vCPU 0 side: re-arm a wire's watch once the card has taken everything waiting on it. */
export class NicWakeGuest {
  private readonly flags: Int32Array;

  constructor(private readonly init: NicWakeInit, private readonly index: number, private readonly fd: number) {
    this.flags = new Int32Array(init.armed);
  }

  /** Called when the socket was found empty: costs a syscall only after the watch fired. */
  drained(): void {
    if (Atomics.load(this.flags, this.index) !== 0) return;
    // Flag first: if the watch fires at once (a frame raced in), the watcher's clear wins.
    Atomics.store(this.flags, this.index, 1);
    rearmOneShot(this.init.epfd, this.fd, this.index);
  }
}
