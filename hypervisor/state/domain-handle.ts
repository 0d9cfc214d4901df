// domain-handle.ts: how a vCPU thread reaches any domain (its own or a peer) for event delivery:
// the domain's shared slot, port table, memory views and VM fd.
import { viewAt } from '../../host/libc.ts';
import { KvmVm } from '../kvm/vm.ts';
import type { HypervisorShared } from './global-state.ts';
import type { DomainShared } from './shared-state.ts';
import type { PortTable } from './port-table.ts';

export interface DomainHandle {
  readonly domid: number;
  readonly shared: DomainShared;
  readonly ports: PortTable;
  /** The whole memfd mapping, byte- and word-addressed (for Atomics on shared_info bits). */
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly vm: KvmVm;
}

/**
 * Opens handles to domains by id. Views are cached per slot and rebuilt when the slot is reused
 * by a new domain (different memory base). Remote access is bracketed by acquire/release so the
 * main thread never unmaps memory or closes fds under a running delivery.
 */
export class Domains {
  private readonly cache = new Map<number, DomainHandle>();

  constructor(readonly hv: HypervisorShared, private readonly selfDomid: number, private readonly selfBytes: Uint8Array) {}

  /** The caller's own domain: always alive while its vCPUs run, so no acquire is needed. */
  self(): DomainHandle {
    const h = this.handle(this.hv.slot(this.selfDomid), this.selfBytes);
    if (h === null) throw new Error('own domain missing from the shared table');
    return h;
  }

  /**
   * Run `fn` with another domain held alive; returns `dead` when it does not exist or is dying.
   * The caller's own domain is passed straight through.
   */
  with<T>(domid: number, dead: T, fn: (h: DomainHandle) => T): T {
    // A handle made off any vCPU thread (selfDomid -1) has no own domain: -1 names nothing.
    if (domid < 0) return dead;
    if (domid === this.selfDomid) return fn(this.self());
    const slot = this.hv.slot(domid);
    if (slot < 0) return dead;
    const shared = this.hv.domain(slot);
    if (!shared.acquire()) return dead;
    try {
      if (shared.domid !== domid) return dead;
      const h = this.handle(slot, null);
      return h === null ? dead : fn(h);
    } finally {
      shared.release();
    }
  }

  private handle(slot: number, bytes: Uint8Array | null): DomainHandle | null {
    if (slot < 0) return null;
    const shared = this.hv.domain(slot);
    const cached = this.cache.get(slot);
    if (cached !== undefined && cached.domid === shared.domid && (bytes !== null || cachedBase.get(cached) === shared.memBase)) {
      return cached;
    }
    const u8 = bytes ?? viewAt(shared.memBase, shared.memBytes);
    const h: DomainHandle = {
      domid: shared.domid, shared, ports: this.hv.portTable(slot), u8,
      i32: new Int32Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 2), vm: new KvmVm(shared.vmFd),
    };
    cachedBase.set(h, shared.memBase);
    this.cache.set(slot, h);
    return h;
  }
}

const cachedBase = new WeakMap<DomainHandle, bigint>();
