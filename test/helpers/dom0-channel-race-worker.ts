// dom0-channel-race-worker.ts: the guest's vCPU thread of the dom0-channel race test (bundled by
// the test): for each round it waits at the start line, then closes its dom0-bound port as
// EVTCHNOP_close does (guestClosedDom0, then the port entry closed) or sends on it (kickDom0).
import { parentPort, workerData } from 'node:worker_threads';
import { HypervisorShared } from '../../hypervisor/state/global-state.ts';
import { guestClosedDom0, kickDom0 } from '../../hypervisor/events/dom0-channels.ts';
import { EVTCHNSTAT } from '../../abi/event-channel.ts';
import { raceHandle, type RaceJob, CTL } from './dom0-channel-race.ts';

const job = workerData as RaceJob;
const hv = new HypervisorShared(job.hv);
const guest = raceHandle(job);
const ctl = new Int32Array(job.ctl);

for (let round = 1; round <= job.rounds; round++) {
  while (Atomics.load(ctl, CTL.go) < round) Atomics.wait(ctl, CTL.go, round - 1, 50);
  const c = Atomics.load(ctl, CTL.channel);
  const port = Atomics.load(ctl, CTL.port);
  if (job.role === 'close') {
    guestClosedDom0(hv, guest, c, port);
    guest.shared.lockEvents();
    guest.ports.set(port, { state: EVTCHNSTAT.values.closed, vcpu: 0, remoteDom: 0, remotePort: 0 });
    guest.shared.unlockEvents();
  } else {
    for (let i = 0; i < job.kicks; i++) kickDom0(hv, guest, c, port);
  }
  Atomics.add(ctl, CTL.done, 1);
  Atomics.notify(ctl, CTL.done);
}
parentPort!.postMessage('finished');
