// exit-stats.ts: live per-vCPU exit counters in a SharedArrayBuffer — the vCPU thread counts,
// the main thread reads them at any time (`pvkvm info`), without messages to a busy thread.
import { MAX_VCPUS } from '../state/shared-state.ts';

/**
 * Exit kinds as VcpuExit names them, plus the hypercall trap; and `continuation`, the hypercall
 * traps that yielded to be re-issued (a subset of `hypercall`, not an exit of its own).
 */
export const EXIT_KINDS = [
  'hypercall', 'io', 'mmio', 'hlt', 'intr', 'rdmsr', 'wrmsr', 'shutdown', 'system-event',
  'internal-error', 'fail-entry', 'other', 'continuation',
] as const;
const KINDS = EXIT_KINDS.length;
const INDEX = new Map<string, number>(EXIT_KINDS.map((k, i) => [k, i]));
const OTHER = INDEX.get('other')!;

export function newExitStatsBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(MAX_VCPUS * KINDS * 8);
}

/** One vCPU's counters (single writer: its own thread; doubles stay exact to 2^53). */
export class ExitCounter {
  private readonly counts: Float64Array;

  constructor(sab: SharedArrayBuffer, vcpuId: number) {
    this.counts = new Float64Array(sab, vcpuId * KINDS * 8, KINDS);
  }

  hypercall(): void {
    this.counts[0]!++;
  }

  count(kind: string): void {
    this.counts[INDEX.get(kind) ?? OTHER]!++;
  }
}

/** Sum of every vCPU's counters by exit kind (kinds never seen are left out). */
export function readExitStats(sab: SharedArrayBuffer): Record<string, number> {
  const all = new Float64Array(sab);
  const out: Record<string, number> = {};
  for (let v = 0; v < MAX_VCPUS; v++) {
    for (let k = 0; k < KINDS; k++) {
      const n = all[v * KINDS + k]!;
      if (n > 0) out[EXIT_KINDS[k]!] = (out[EXIT_KINDS[k]!] ?? 0) + n;
    }
  }
  return out;
}
