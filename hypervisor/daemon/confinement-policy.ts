// confinement-policy.ts: what the hypervisor daemon keeps when it confines itself at start-up
// (host/confine.ts; docs/confinement.md). It opens /dev/kvm, makes memfds, eventfds and threads,
// serves two Unix sockets, and opens emulated disks' image files; it never starts a program.
import type { ConfinementPolicy } from '../../host/confine.ts';
import { baselinePolicy } from '../../host/confine-baseline.ts';

const AF_UNIX = 1;

export const HYPERVISOR_CONFINEMENT: ConfinementPolicy = {
  // Emulated disks are image files at paths the user names, possibly not owned by root. Keep
  // this a subset of dom0's: the kernel lets dom0 set the affinity of our vCPU threads (vcpu-pin)
  // only if it holds every capability we do.
  keepCapabilities: ['dac_override'],
  hideDevices: [],
  // It holds /dev/kvm and every guest's memory: dom0 (same user) must not reach them via /proc.
  undumpable: true,
  seccomp: baselinePolicy(['execve', 'execveat'], [AF_UNIX]),
};
