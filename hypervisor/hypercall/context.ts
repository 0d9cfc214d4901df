// context.ts: what a hypercall handler sees — the calling vCPU, its domain, and guest memory.
import type { GuestVirtual } from '../memory/guest-access.ts';
import type { PhysMemory } from '../memory/phys-memory.ts';
import type { DomainShared } from '../state/shared-state.ts';
import type { MemmapEntry } from '../boot/pvh-layout.ts';
import type { Domains } from '../state/domain-handle.ts';
import type { BalloonMap } from '../memory/balloon.ts';
import { DOMID } from '../../abi/multicall.ts';
import { neg } from '../../abi/errno.ts';

/** The domain-wide services a handler may use. Implemented by the vCPU worker. */
export interface DomainEnv {
  readonly domid: number;
  readonly name: string;
  readonly uuid: Uint8Array;
  readonly privileged: boolean;
  readonly ramBytes: number;
  readonly nrVcpus: number;
  readonly shared: DomainShared;
  readonly mem: PhysMemory;
  readonly memmap: readonly MemmapEntry[];
  /** Every domain this one may reach (itself included), for event delivery. */
  readonly domains: Domains;
  /** RAM frames given back and taken again (XENMEM reservation ops). */
  readonly balloon: BalloonMap;
  /** The most frames the domain may hold (maximum_reservation). */
  readonly maxPages: number;
  /**
   * Return the memory of `count` RAM frames from `pfn` to the host (their contents read as zero
   * afterwards); false if the host refused.
   */
  discardFrames(pfn: number, count: number): boolean;
  /** Make RAM frames [first, end) unreachable for the guest, or reachable again; false if the host refused. */
  setFrameAccess(first: number, end: number, accessible: boolean): boolean;
  /** Highest guest frame number currently backed by memory. */
  maxGpfn(): number;
  /** Guest console output (console_io, debug port). */
  console(text: string): void;
  /** Tell the toolstack the domain began shutting down with this (effective) reason. */
  shutdown(reason: number): void;
  /** Ask the hypervisor to shut down another domain (privileged callers only). */
  remoteShutdown(domid: number, reason: number): void;
  /**
   * Make `gpfn` a page the hypervisor owns for a special purpose: RAM pages are used in place;
   * frames beyond RAM get a fresh memory slot. Returns false when it cannot be backed.
   */
  backSpecialPage(gpfn: number): boolean;
  /** Force vCPU `vcpu` out of KVM_RUN soon (after VCPUOP_down of another vCPU). */
  kickVcpu(vcpu: number): void;
  /** Monotonic system time in ns (Xen "system time"). */
  now(): bigint;
}

/** Operations on the calling vCPU itself (vCPU ioctls are only cheap from its own thread). */
export interface VcpuArch {
  /** Let the in-kernel PIC reach this vCPU: LAPIC LVT0 = ExtINT, unmasked. */
  routePicToLapic(): void;
  /** RFLAGS.IF at the hypercall: can an upcall be delivered as soon as the vCPU resumes? */
  interruptsEnabled(): boolean;
}

export interface HypercallContext {
  readonly dom: DomainEnv;
  readonly vcpuId: number;
  readonly guest: GuestVirtual;
  /** Calling convention in force for this call: 64-bit, or 32-bit (compat). */
  readonly mode: 64 | 32;
  readonly arch: VcpuArch;
  /** Non-zero inside a multicall. */
  readonly depth: number;
  /** True once the main thread asked this vCPU to stop; long loops check it. */
  stopRequested(): boolean;
  /**
   * Xen's hypercall_create_continuation: when the handler returns, the guest goes back to the
   * start of its hypercall stub with these arguments in the argument registers, so the same
   * hypercall runs again from where this one stopped; the handler's return value is dropped.
   * False (or absent: inside a multicall, in unit tests) when the call cannot be re-issued; the
   * handler must then finish its work itself.
   */
  createContinuation?(args: readonly bigint[]): boolean;
}

/** A xen_ulong_t or xen_pfn_t (e.g. one frame of a frame list) in the current mode. */
export function ulongType(ctx: HypercallContext): 'u64' | 'u32' {
  return ctx.mode === 64 ? 'u64' : 'u32';
}

/**
 * Resolve a domid argument that must name the caller: DOMID_SELF or its own id. Other domains
 * answer -ESRCH when unknown to this worker; privileged cross-domain ops are routed elsewhere.
 */
export function selfDomid(ctx: HypercallContext, domid: number): bigint | null {
  if (domid === DOMID.values.SELF || domid === ctx.dom.domid) return null;
  return ctx.dom.privileged ? neg('ESRCH') : neg('EPERM');
}

/** Encode a NUL-padded fixed-size string (xen_version buffers). */
export function fixedString(s: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const bytes = new TextEncoder().encode(s);
  out.set(bytes.subarray(0, size - 1));
  return out;
}
