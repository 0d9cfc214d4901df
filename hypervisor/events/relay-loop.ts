// relay-loop.ts: the relay half of the hypervisor's timer/relay thread — waits on every eventfd
// in the relay table and turns each signal into the raise on the other end, so a guest's send on
// a relayed port (and dom0's notify of a channel) never wakes a vCPU thread in user space.
//
//   guest: out SEND_PORT, port ──KVM ioeventfd──▶ eventfd ──epoll──▶ here ──▶ sendFrom
//   dom0:  write notify eventfd ─────────────────────────────epoll──▶ here ──▶ raiseFromDom0
import { FdWatch } from '../../host/fd-watch.ts';
import type { HypervisorShared } from '../state/global-state.ts';
import type { Domains } from '../state/domain-handle.ts';
import { RelayTable } from '../state/relay-table.ts';
import { sendFrom } from './send.ts';
import { raiseFromDom0 } from './dom0-channels.ts';

export class RelayLoop {
  private readonly watch: FdWatch;

  constructor(private readonly hv: HypervisorShared, private readonly domains: Domains) {
    this.watch = new FdWatch({ table: hv.relays, fdField: RelayTable.FD_FIELD, wakeFd: hv.wakeFd, seq: () => hv.relaySeq() });
  }

  /** Sleep up to `timeoutMs` (the next timer deadline) and relay every send that arrived. */
  waitAndRelay(timeoutMs: number): void {
    for (const i of this.watch.wait(timeoutMs)) {
      const domid = this.hv.relays.domid(i);
      const port = this.hv.relays.port(i);
      if (domid === 0) {
        // A dom0 backend signalled channel `port`: raise the guest's end.
        this.domains.with(this.hv.dom0.guestDomid(port), undefined, (h) => { raiseFromDom0(this.hv, h, port); });
      } else {
        this.domains.with(domid, undefined, (h) => { sendFrom(this.domains, h, port); });
      }
    }
  }

  close(): void {
    this.watch.close();
  }
}
