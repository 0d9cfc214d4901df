// send.ts: EVTCHNOP_send's effect, shared by the hypercall and the ioeventfd relay thread.
import { EVTCHNSTAT } from '../../abi/event-channel.ts';
import { E } from '../../abi/errno.ts';
import type { DomainHandle, Domains } from '../state/domain-handle.ts';
import { setPending, portLimit } from './raise.ts';
import { kickDom0 } from './dom0-channels.ts';

const S = EVTCHNSTAT.values;

/** Send on `port` of domain `h`: 0, or −EINVAL for ports that cannot be sent on. */
export function sendFrom(domains: Domains, h: DomainHandle, port: number): number {
  if (!Number.isInteger(port) || port <= 0 || port >= portLimit(h)) return -E.EINVAL;
  const p = h.ports.get(port);
  switch (p.state) {
    case S.interdomain:
      if (p.remoteDom === 0) {
        kickDom0(domains.hv, h, p.remotePort, port);
        return 0;
      }
      domains.with(p.remoteDom, undefined, (remote) => setPending(remote, p.remotePort));
      return 0;
    case S.ipi:
      setPending(h, port);
      return 0;
    case S.unbound:
      return 0; // nobody listens yet: dropped, as in Xen
    default:
      return -E.EINVAL;
  }
}
