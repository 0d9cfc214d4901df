// dom0-channel-race.ts: a guest domain without KVM for the dom0-channel race test — the fifo fake's
// shared slot and port table, and a VM whose ioeventfd calls are slow (as KVM's deassign is: it
// waits for an SRCU grace period) and recorded per port, so a stale or doubled registration shows.
import { fakeHandle, type Fake, type FakeBuffers } from './fifo-fake.ts';
import type { KvmVm } from '../../hypervisor/kvm/vm.ts';

/** Shared control words between the test and its worker. */
export const CTL = { go: 0, done: 1, channel: 2, port: 3 } as const;
/** Per port: [2p] live registrations, [2p+1] the eventfd of the last one. */
export const REG_WORDS = 2 * 64;

export interface RaceJob {
  readonly buffers: FakeBuffers;
  readonly hv: SharedArrayBuffer;
  readonly ctl: SharedArrayBuffer;
  readonly reg: SharedArrayBuffer;
  readonly role: 'close' | 'kick';
  readonly rounds: number;
  readonly kicks: number;
}

/** How long one fake ioeventfd call spins: long enough that the two threads overlap in it. */
const IOEVENTFD_SPIN_MS = 0.2;

export function raceHandle(job: Pick<RaceJob, 'buffers' | 'reg'>): Fake {
  const h = fakeHandle(job.buffers);
  const reg = new Int32Array(job.reg);
  const vm = Object.create(h.vm as object) as KvmVm & { ioeventfdPio: KvmVm['ioeventfdPio'] };
  vm.ioeventfdPio = (_addr: number, port: number, fd: number, deassign = false): void => {
    const until = performance.now() + IOEVENTFD_SPIN_MS;
    while (performance.now() < until) { /* KVM's own latency, compressed */ }
    if (deassign) {
      // KVM finds the registration by (port, eventfd): a different or closed fd matches nothing.
      if (Atomics.load(reg, 2 * port) === 0 || Atomics.load(reg, 2 * port + 1) !== fd) throw new Error('ENOENT');
      Atomics.sub(reg, 2 * port, 1);
    } else {
      if (Atomics.load(reg, 2 * port) !== 0) throw new Error('EEXIST');
      Atomics.store(reg, 2 * port + 1, fd);
      Atomics.add(reg, 2 * port, 1);
    }
  };
  return { ...h, vm };
}
