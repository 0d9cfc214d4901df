// pvclock.ts: publishing Xen system time to a vCPU (vcpu_info.time) — the version protocol,
// mul/shift from the TSC frequency, and the TSC-stable flag.
import { VcpuTimeInfo, PVCLOCK } from '../../abi/shared-info.ts';
import { tscScale } from './tsc-scale.ts';
import type { KvmVcpu } from '../kvm/vcpu.ts';

const IA32_TSC = 0x10;
const TIME_OFFSET = 32; // vcpu_info.time
/** A TSC read bracketed this tightly pairs well enough (the ioctl itself takes a few µs). */
const GOOD_ENOUGH_NS = 200_000n;
const SAMPLE_TRIES = 8;

/** One (guest TSC, system time) pair and the scale between them. */
export interface ClockSample {
  tsc: bigint;
  systemNs: bigint;
  mul: number;
  shift: number;
}

/**
 * Pair the vCPU's TSC with system time (CLOCK_MONOTONIC ns). The MSR read costs one vCPU ioctl,
 * so this runs at start-up and on rare events, never per hypercall; the midpoint of the two clock
 * reads bounds the pairing error by half the ioctl's duration.
 */
export function sampleClock(vcpu: KvmVcpu, tscKhz: number): ClockSample {
  // On a busy host the thread can be descheduled inside the ioctl, and the midpoint is then off
  // by up to half the stall (13 ms was seen): keep the tightest of a few tries.
  let best: { tsc: bigint; t0: bigint; t1: bigint } | null = null;
  for (let i = 0; i < SAMPLE_TRIES; i++) {
    const t0 = process.hrtime.bigint();
    const tsc = vcpu.getMsr(IA32_TSC);
    const t1 = process.hrtime.bigint();
    if (best === null || t1 - t0 < best.t1 - best.t0) best = { tsc, t0, t1 };
    if (best.t1 - best.t0 <= GOOD_ENOUGH_NS) break;
  }
  const { mul, shift } = tscScale(tscKhz);
  return { tsc: best!.tsc, systemNs: (best!.t0 + best!.t1) / 2n, mul, shift };
}

/** Write vcpu_info.time at `vcpuInfo` (a byte offset in `view`) with Xen's seqlock protocol. */
export function writeTimeInfo(view: DataView, vcpuInfo: number, s: ClockSample): void {
  const base = vcpuInfo + TIME_OFFSET;
  const f = VcpuTimeInfo.byName;
  const ver = base + f.version.offset;
  view.setUint32(ver, (view.getUint32(ver, true) + 1) | 1, true); // odd: update in progress
  view.setBigUint64(base + f.tsc_timestamp.offset, s.tsc, true);
  view.setBigUint64(base + f.system_time.offset, s.systemNs, true);
  view.setUint32(base + f.tsc_to_system_mul.offset, s.mul, true);
  view.setInt8(base + f.tsc_shift.offset, s.shift);
  view.setUint8(base + f.flags.offset, PVCLOCK.values.TSC_STABLE_BIT);
  view.setUint32(ver, (view.getUint32(ver, true) + 1) & ~1, true);
}
