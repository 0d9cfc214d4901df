// confinement-policy.ts: what dom0 keeps when it confines itself at start-up (host/confine.ts;
// docs/confinement.md). It never opens /dev/kvm; it creates TAP devices and puts them on bridges
// (itself and through `ip`), and opens disk images at paths the user names.
import type { ConfinementPolicy } from '../host/confine.ts';
import { baselinePolicy } from '../host/confine-baseline.ts';

export const DOM0_CONFINEMENT: ConfinementPolicy = {
  // net_admin: TUNSETIFF and `ip link set ... master BRIDGE`; dac_override: disk images of any owner.
  keepCapabilities: ['net_admin', 'dac_override'],
  hideDevices: ['/dev/kvm'],
  undumpable: false,
  // `ip` runs under this filter too (it is inherited): no socket-family limit, programs may start.
  seccomp: baselinePolicy(),
};
