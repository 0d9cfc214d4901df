// timer-worker.ts: the hypervisor's timer and relay thread — sleeps in epoll_wait until the
// earliest vCPU deadline or an event-channel eventfd fires, then raises VIRQ_TIMER or relays the
// send, without waking any vCPU thread in user space.
import { parentPort, workerData } from 'node:worker_threads';
import { HypervisorShared } from '../domain/global-state.ts';
import { Domains } from '../events/domain-handle.ts';
import { RELAY, MAX_RELAYS } from '../events/relays.ts';
import { sendFrom } from '../events/send.ts';
import { raiseFromDom0 } from '../events/dom0-channels.ts';
import { libc } from '../kvm/libc.ts';
import { EpollSet } from '../kvm/epoll.ts';
import { runExpired } from './timers.ts';

const IDLE_WAIT_MS = 1000;
const WAKE = 0xffffffff;

const hv = new HypervisorShared((workerData as { hvSab: SharedArrayBuffer }).hvSab);
const domains = new Domains(hv, -1, new Uint8Array(0));
const epoll = new EpollSet();
const drain = new BigUint64Array(1);
/** Relay entries this thread has in its epoll set: index → eventfd. */
const watched = new Map<number, number>();

/** Bring the epoll set in line with the relay table: watch new entries, reap closing ones. */
function reconcile(): void {
  for (let i = 0; i < MAX_RELAYS; i++) {
    const s = hv.relays.state(i);
    if (s === RELAY.ACTIVE && !watched.has(i)) {
      watched.set(i, hv.relays.fd(i));
      epoll.add(hv.relays.fd(i), i);
    } else if (s === RELAY.CLOSING) {
      const fd = watched.get(i) ?? hv.relays.fd(i);
      epoll.remove(fd);
      libc.close(fd);
      watched.delete(i);
      hv.relays.setState(i, RELAY.FREE);
    }
  }
}

epoll.add(hv.wakeFd, WAKE);
let seenRelaySeq = -1;
while (!hv.timersStopped) {
  // Rescanning the relay table is only needed after it changed, not on every relayed send.
  const relaySeq = hv.relaySeq();
  if (relaySeq !== seenRelaySeq) {
    seenRelaySeq = relaySeq;
    reconcile();
  }
  const now = process.hrtime.bigint();
  const next = runExpired(hv, domains, now);
  const waitMs = next === 0n ? IDLE_WAIT_MS : Math.min(IDLE_WAIT_MS, Math.ceil(Number(next - process.hrtime.bigint()) / 1e6));
  for (const data of waitMs > 0 ? epoll.wait(waitMs) : []) {
    if (data === WAKE) {
      libc.read(hv.wakeFd, drain, 8);
      continue;
    }
    const fd = watched.get(data);
    if (fd === undefined) continue;
    libc.read(fd, drain, 8); // one raise covers every send since the last read: events coalesce
    if (hv.relays.state(data) !== RELAY.ACTIVE) continue;
    const domid = hv.relays.domid(data);
    const port = hv.relays.port(data);
    if (domid === 0) {
      // A dom0 backend signalled channel `port`: raise the guest's end.
      domains.with(hv.dom0.guestDomid(port), undefined, (h) => { raiseFromDom0(hv, h, port); });
    } else {
      domains.with(domid, undefined, (h) => { sendFrom(domains, h, port); });
    }
  }
}
for (const fd of watched.values()) libc.close(fd);
epoll.close();
parentPort?.postMessage('stopped');
