// capabilities.ts: the start-up probe — every KVM capability pvkvm relies on, named when missing.
import { KVM_CAP } from './ioctls.ts';
import { PvkvmError } from '../../host/errors.ts';
import type { KvmSystem } from './system.ts';

/** Capabilities pvkvm cannot run without, with what each is for. */
export const REQUIRED_CAPS: ReadonlyArray<readonly [keyof typeof KVM_CAP, string]> = [
  ['USER_MEMORY', 'guest RAM slots'],
  ['IRQCHIP', 'in-kernel interrupt controller for event upcalls'],
  ['SYNC_REGS', 'register access without extra ioctls per exit'],
  ['IMMEDIATE_EXIT', 'reliable pause/destroy of running vCPUs'],
  ['X86_USER_SPACE_MSR', 'hypercall-page MSR writes'],
  ['X86_MSR_FILTER', 'trapping the hypercall-page MSR'],
  ['IOEVENTFD', 'event-channel fast path'],
  ['IRQFD', 'event injection from any thread'],
  ['EXT_CPUID', 'Xen CPUID leaves'],
];

export interface CapabilityReport {
  present: string[];
  missing: string[];
  optional: Record<string, boolean>;
}

export function probeCapabilities(sys: KvmSystem): CapabilityReport {
  const present: string[] = [];
  const missing: string[] = [];
  for (const [name, why] of REQUIRED_CAPS) {
    if (sys.checkExtension(KVM_CAP[name]) > 0) present.push(name);
    else missing.push(`KVM_CAP_${name} (${why})`);
  }
  const optional = {
    XEN_HVM: sys.checkExtension(KVM_CAP.XEN_HVM) > 0,
    GET_TSC_KHZ: sys.checkExtension(KVM_CAP.GET_TSC_KHZ) > 0,
    SIGNAL_MSI: sys.checkExtension(KVM_CAP.SIGNAL_MSI) > 0,
    READONLY_MEM: sys.checkExtension(KVM_CAP.READONLY_MEM) > 0,
    EXIT_ON_EMULATION_FAILURE: sys.checkExtension(KVM_CAP.EXIT_ON_EMULATION_FAILURE) > 0,
    XSAVE: sys.checkExtension(KVM_CAP.XSAVE) > 0,
  };
  return { present, missing, optional };
}

/** Throw one clear error listing every missing capability. */
export function requireCapabilities(sys: KvmSystem): CapabilityReport {
  const report = probeCapabilities(sys);
  if (report.missing.length > 0) {
    throw new PvkvmError(`this host's KVM lacks: ${report.missing.join(', ')}`);
  }
  return report;
}
