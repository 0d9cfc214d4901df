// stats.ts: live per-hypercall counters in a SharedArrayBuffer — each vCPU thread's table counts
// into its own slice, the main thread sums them at any time (`pvkvm info`).
import { HYPERCALL_PAGE } from '../../abi/hypercalls.ts';
import { MAX_VCPUS } from '../state/shared-state.ts';
import { buildHypercallTable } from './index.ts';
import type { HypercallTable } from './table.ts';

const NR = HYPERCALL_PAGE.values.NR_STUBS;

export function newHypercallStatsBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(MAX_VCPUS * NR * 8);
}

/** vCPU `vcpuId`'s counters (single writer: its thread). */
export function hypercallCounters(sab: SharedArrayBuffer, vcpuId: number): Float64Array {
  return new Float64Array(sab, vcpuId * NR * 8, NR);
}

/** Names come from a table built once on the reading thread (the registrations are fixed). */
let names: HypercallTable | null = null;

/** Calls per hypercall name, summed over the vCPUs (numbers never called are left out). */
export function readHypercallStats(sab: SharedArrayBuffer): Record<string, number> {
  names ??= buildHypercallTable();
  const all = new Float64Array(sab);
  const out: Record<string, number> = {};
  for (let nr = 0; nr < NR; nr++) {
    let n = 0;
    for (let v = 0; v < MAX_VCPUS; v++) n += all[v * NR + nr]!;
    if (n > 0) out[names.name(nr) ?? `#${nr}`] = n;
  }
  return out;
}
