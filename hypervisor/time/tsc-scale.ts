// tsc-scale.ts: the pvclock multiplier and shift for a TSC frequency (Xen's time CPUID leaf and
// vcpu_time_info share it).

/** pvclock scale: ns = (tsc << shift) * mul >> 32, for a TSC of `khz`. */
export function tscScale(khz: number): { mul: number; shift: number } {
  let shift = 0;
  let hz = BigInt(khz) * 1000n;
  const target = 1_000_000_000n;
  // Normalise so that mul = (1e9 << 32) / (hz << shift) fits in 32 bits with most precision.
  while (hz <= target) { hz <<= 1n; shift++; }
  while (hz > 2n * target) { hz >>= 1n; shift--; }
  const mul = Number(((target << 32n) / hz) & 0xffffffffn);
  return { mul, shift };
}
