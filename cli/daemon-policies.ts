// daemon-policies.ts: which confinement policy each daemon gets, and the switch that turns
// confinement off — kept free of heavy imports: the stage-one bundle (daemon-prelaunch.ts) uses it.
import type { ConfinementPolicy } from '../host/confine.ts';
import { HYPERVISOR_CONFINEMENT } from '../hypervisor/daemon/confinement-policy.ts';
import { DOM0_CONFINEMENT } from '../dom0/confinement-policy.ts';

/** Set to 1 to run the daemons unconfined (as --no-confine does), for debugging. */
export const NO_CONFINE_ENV = 'PVKVM_NO_CONFINE';

export const CONFINEMENT_POLICY: Record<'hypervisor' | 'dom0', ConfinementPolicy> = { hypervisor: HYPERVISOR_CONFINEMENT, dom0: DOM0_CONFINEMENT };

export function confinementWanted(noConfineFlag: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return !noConfineFlag && env[NO_CONFINE_ENV] !== '1';
}
