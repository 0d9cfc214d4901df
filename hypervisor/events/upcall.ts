// upcall.ts: marking a vCPU's events pending and delivering the upcall interrupt (docs/xen-abi.md
// §4.4) — the last step of a raise under either event ABI, usable from any thread.
import { HVM_PARAM } from '../../abi/hvm.ts';
import type { DomainHandle } from '../state/domain-handle.ts';

const LAPIC_MSI_BASE = 0xfee00000;

/** vcpu_mark_events_pending: test-and-set the upcall byte; on 0→1, deliver and wake. */
export function markVcpuPending(h: DomainHandle, vcpu: number): void {
  const vi = h.shared.vcpuInfoOffset(vcpu);
  if (vi < 0) return;
  if (Atomics.exchange(h.u8, vi, 1) !== 0) return;
  inject(h, vcpu);
  h.shared.wakeVcpu(vcpu);
}

/** Deliver the upcall interrupt, from any thread, without entering the target vCPU's thread. */
export function inject(h: DomainHandle, vcpu: number): void {
  const vector = h.shared.upcallVector(vcpu);
  if (vector !== 0) {
    // A fixed, edge-triggered interrupt to the vCPU's LAPIC (APIC id = vCPU id); the guest EOIs.
    h.vm.signalMsi(LAPIC_MSI_BASE | (vcpu << 12), 0, vector);
    return;
  }
  const cb = h.shared.param(HVM_PARAM.values.CALLBACK_IRQ);
  const gsi = h.shared.callbackGsi;
  if (cb !== 0n && gsi >= 0) {
    // Domain-wide callback vector: the master PIC in auto-EOI mode feeds it through LVT0 ExtINT,
    // so the guest needs no EOI (Xen injects it directly).
    h.vm.irqLine(gsi, 1);
    h.vm.irqLine(gsi, 0);
  }
}
