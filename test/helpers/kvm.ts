// kvm.ts: the rule for tests that need /dev/kvm — fail without it, unless PVKVM_ALLOW_NO_KVM=1.
import { accessSync, constants } from 'node:fs';

export function kvmAvailable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Options for `t.test(name, kvmTest(), fn)`: skips visibly when KVM is missing and the user
 * allowed it; otherwise the test runs (and fails loudly if KVM is missing).
 */
export function kvmTest(): { skip: string | false } {
  if (kvmAvailable()) return { skip: false };
  if (process.env.PVKVM_ALLOW_NO_KVM === '1') return { skip: '/dev/kvm is missing (PVKVM_ALLOW_NO_KVM=1)' };
  return { skip: false };
}
