// caller.ts: what grant operations need of the domain that asks for them — its id, memory and
// shared state, and a way to reach other domains — so grants depend on no hypercall machinery.
import type { PhysMemory } from '../memory/phys-memory.ts';
import type { DomainShared } from '../state/shared-state.ts';
import type { Domains } from '../state/domain-handle.ts';

export interface GrantCaller {
  readonly domid: number;
  readonly ramBytes: number;
  readonly shared: DomainShared;
  readonly mem: PhysMemory;
  /** Every domain this one may reach (itself included). */
  readonly domains: Domains;
  /** Back `gpfn` with a hypervisor-owned page (grant frames placed beyond RAM); false if impossible. */
  backSpecialPage(gpfn: number): boolean;
}
