// vcpu-set.ts: xl vcpu-set for PVH guests — the toolstack's half of vCPU hot-plug is the
// cpu/N/availability nodes ("online"/"offline") the guest watches (Linux: drivers/xen/cpu_hotplug.c);
// the guest brings vCPUs up and down itself with VCPUOP_up/VCPUOP_down.
import type { XsLocal } from '../xenstore/xenstored.ts';
import { domainPath } from './xenstore-layout.ts';

/** The availability node of one vCPU. */
function node(domid: number, vcpu: number): string {
  return `${domainPath(domid)}/cpu/${vcpu}/availability`;
}

/**
 * Make vCPUs 0..online-1 available and online..max-1 unavailable, in one transaction (the guest
 * sees every change at once), as libxl_set_vcpuonline does. Only nodes whose value changes are
 * written, so the guest's watch fires for those alone. The caller checks 1 <= online <= max.
 */
export function setAvailability(xs: XsLocal, domid: number, online: number, max: number): void {
  xs.transaction((tx) => {
    for (let v = 0; v < max; v++) {
      const want = v < online ? 'online' : 'offline';
      if (tx.read(node(domid, v)) !== want) tx.write(node(domid, v), want);
    }
  });
}

/** How many of the domain's `max` vCPUs the toolstack has made available (vcpu-set's last word). */
export function availableVcpus(xs: XsLocal, domid: number, max: number): number {
  let n = 0;
  for (let v = 0; v < max; v++) if (xs.read(node(domid, v)) === 'online') n++;
  return n;
}
