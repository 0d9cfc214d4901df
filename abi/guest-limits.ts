// guest-limits.ts: the sizes a domain may be given — checked by the CLI's config parser, dom0's
// toolstack and the hypervisor's domain builder alike, so all three refuse the same values.
const MIB = 1024 * 1024;

export const GUEST_LIMITS = {
  minRamMiB: 2,
  /** 3 GiB keeps RAM clear of the special-page region and the MMIO hole from 0xF0000000. */
  maxRamMiB: 3072,
  maxVcpus: 32,
  /** Longest command line, including its terminating NUL. */
  maxCmdlineBytes: 64 * 1024,
} as const;

export const minGuestRamBytes = GUEST_LIMITS.minRamMiB * MIB;
export const maxGuestRamBytes = GUEST_LIMITS.maxRamMiB * MIB;
