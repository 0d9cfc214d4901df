// port-table.ts: one domain's event-channel ports in shared memory (the hypervisor's bookkeeping;
// the pending/mask bits the guest sees live in its shared_info page).
import { EVTCHNSTAT, NR_VIRQS } from '../../abi/event-channel.ts';
import { MAX_VCPUS } from './shared-state.ts';

/** The 2-level ABI's largest port space (64-bit guests); 32-bit guests get 1024. */
export const MAX_PORTS = 4096;
const WORDS = 4; // state, notify vCPU, remote domid, remote port (or VIRQ number)
export const PORT_TABLE_BYTES = MAX_PORTS * WORDS * 4 + MAX_VCPUS * NR_VIRQS * 4;

export type PortState = (typeof EVTCHNSTAT.values)[keyof typeof EVTCHNSTAT.values];

export interface Port {
  state: number;
  vcpu: number;
  remoteDom: number;
  /** Remote port for interdomain channels; the VIRQ for virq ports. */
  remotePort: number;
}

/**
 * Ports indexed by number. Structural changes happen under the owning domain's event lock
 * (DomainShared.lockEvents); single words are read without it, as Xen's send path does.
 */
export class PortTable {
  private readonly w: Int32Array;
  /** (vcpu * NR_VIRQS + virq) → bound port, 0 = none. */
  private readonly virqs: Int32Array;

  constructor(sab: SharedArrayBuffer, offset: number) {
    this.w = new Int32Array(sab, offset, MAX_PORTS * WORDS);
    this.virqs = new Int32Array(sab, offset + MAX_PORTS * WORDS * 4, MAX_VCPUS * NR_VIRQS);
  }

  reset(): void {
    this.w.fill(0);
    this.virqs.fill(0);
  }

  get(port: number): Port {
    const o = port * WORDS;
    return {
      state: Atomics.load(this.w, o), vcpu: this.w[o + 1]!, remoteDom: this.w[o + 2]!, remotePort: this.w[o + 3]!,
    };
  }

  state(port: number): number {
    return Atomics.load(this.w, port * WORDS);
  }

  set(port: number, p: Port): void {
    const o = port * WORDS;
    this.w[o + 1] = p.vcpu;
    this.w[o + 2] = p.remoteDom;
    this.w[o + 3] = p.remotePort;
    Atomics.store(this.w, o, p.state);
  }

  setVcpu(port: number, vcpu: number): void {
    this.w[port * WORDS + 1] = vcpu;
  }

  /** Lowest free port in [1, limit), or -1 (port 0 is reserved and never handed out). */
  findFree(limit: number): number {
    for (let p = 1; p < limit; p++) if (this.state(p) === EVTCHNSTAT.values.closed) return p;
    return -1;
  }

  virqPort(vcpu: number, virq: number): number {
    return Atomics.load(this.virqs, vcpu * NR_VIRQS + virq);
  }

  setVirqPort(vcpu: number, virq: number, port: number): void {
    Atomics.store(this.virqs, vcpu * NR_VIRQS + virq, port);
  }
}
