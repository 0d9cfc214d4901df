// teardown.ts: closing every event channel of a dying domain (Xen's evtchn_destroy).
import { EVTCHNSTAT } from '../../abi/event-channel.ts';
import type { HypervisorShared } from '../state/global-state.ts';

const S = EVTCHNSTAT.values;

/**
 * Every interdomain channel of `domid` leaves its peer's end unbound (still naming the dead
 * domain, as Xen does), so a peer that sends afterwards is silently dropped, never crashes.
 */
export function closeAllPorts(hv: HypervisorShared, domid: number): void {
  const slot = hv.slot(domid);
  if (slot < 0) return;
  const ports = hv.portTable(slot);
  for (let p = 1, end = ports.highWater; p < end; p++) {
    const port = ports.get(p);
    if (port.state === S.interdomain) {
      const rslot = hv.slot(port.remoteDom);
      if (rslot >= 0 && port.remoteDom !== domid) {
        const remote = hv.domain(rslot);
        remote.lockEvents();
        const rt = hv.portTable(rslot);
        const r = rt.get(port.remotePort);
        if (r.state === S.interdomain && r.remoteDom === domid && r.remotePort === p) {
          rt.set(port.remotePort, { state: S.unbound, vcpu: r.vcpu, remoteDom: domid, remotePort: 0 });
        }
        remote.unlockEvents();
      }
    }
    if (port.state !== S.closed) ports.set(p, { state: S.closed, vcpu: 0, remoteDom: 0, remotePort: 0 });
  }
}
