// shared-state.ts: per-domain state every vCPU worker and the main thread see (SharedArrayBuffer).
//
// Single writers use plain stores; anything two threads may race on goes through Atomics.
import { HVM_NR_PARAMS } from '../../abi/hvm.ts';

export const MAX_VCPUS = 32;

/** Int32 slots. */
const I = {
  shutdownReason: 0, // -1 = running
  shutdownCode: 1, // -1 = none latched (SCHEDOP_shutdown_code)
  wordSize: 2, // 0 = not latched yet, else 32 or 64
  vmAssist: 3,
  watchdogActive: 4, // bit i: watchdog i+1 armed
  consoleSeq: 5,
  vcpuCtl: 8, // MAX_VCPUS words: VcpuCtl
  vcpuWake: 8 + MAX_VCPUS, // MAX_VCPUS words: bumped to wake a blocked vCPU
  vcpuReleased: 8 + 2 * MAX_VCPUS, // MAX_VCPUS words: 1 once the main thread lets the worker exit
  end: 8 + 3 * MAX_VCPUS,
} as const;

/** What the main thread asks of a vCPU worker. */
export const enum VcpuCtl { Run = 0, Pause = 1, Stop = 2 }

export const NR_WATCHDOGS = 2;

/** Float64 slots (bigints via BigInt64Array for params and addresses). */
const B = {
  params: 0, // HVM_NR_PARAMS
  sharedInfoGpa: HVM_NR_PARAMS, // -1 = not placed
  hypercallPageGpa: HVM_NR_PARAMS + 1,
  end: HVM_NR_PARAMS + 2,
} as const;

export class DomainShared {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly big: BigInt64Array;
  /** Watchdog deadlines in ms since the epoch (0 = disarmed). */
  readonly watchdogDeadline: Float64Array;

  constructor(sab?: SharedArrayBuffer) {
    const i32Bytes = I.end * 4;
    const bigOff = Math.ceil(i32Bytes / 8) * 8;
    const wdOff = bigOff + B.end * 8;
    this.sab = sab ?? new SharedArrayBuffer(wdOff + NR_WATCHDOGS * 8);
    this.i32 = new Int32Array(this.sab, 0, I.end);
    this.big = new BigInt64Array(this.sab, bigOff, B.end);
    this.watchdogDeadline = new Float64Array(this.sab, wdOff, NR_WATCHDOGS);
    if (sab === undefined) {
      this.i32[I.shutdownReason] = -1;
      this.i32[I.shutdownCode] = -1;
      this.big[B.sharedInfoGpa] = -1n;
      this.big[B.hypercallPageGpa] = -1n;
    }
  }

  // --- shutdown ---
  get shutdownReason(): number { return Atomics.load(this.i32, I.shutdownReason); }

  /**
   * Begin shutdown with `reason` unless already shutting down. A code latched earlier with
   * SCHEDOP_shutdown_code wins over the reason given now, as in Xen's domain_shutdown().
   * Returns the effective reason, or null if the domain was already shutting down.
   */
  beginShutdown(reason: number): number | null {
    const code = Atomics.load(this.i32, I.shutdownCode);
    const effective = code >= 0 ? code : reason & 0xff;
    return Atomics.compareExchange(this.i32, I.shutdownReason, -1, effective) === -1 ? effective : null;
  }

  /** Latch a shutdown code if none is latched yet. */
  latchShutdownCode(reason: number): void {
    Atomics.compareExchange(this.i32, I.shutdownCode, -1, reason & 0xff);
  }

  get shutdownCode(): number { return Atomics.load(this.i32, I.shutdownCode); }

  // --- SCHEDOP_watchdog timers (deadlines are polled by the main thread) ---
  /** Claim a free watchdog slot; returns its index or -1 when all are in use. */
  claimWatchdog(): number {
    for (let i = 0; i < NR_WATCHDOGS; i++) {
      const old = Atomics.or(this.i32, I.watchdogActive, 1 << i);
      if ((old & (1 << i)) === 0) return i;
    }
    return -1;
  }

  watchdogActive(i: number): boolean {
    return (Atomics.load(this.i32, I.watchdogActive) & (1 << i)) !== 0;
  }

  armWatchdog(i: number, seconds: number): void {
    this.watchdogDeadline[i] = Date.now() + seconds * 1000;
  }

  releaseWatchdog(i: number): void {
    this.watchdogDeadline[i] = 0;
    Atomics.and(this.i32, I.watchdogActive, ~(1 << i));
  }

  /** Index of a watchdog whose deadline passed, or -1. */
  expiredWatchdog(nowMs: number): number {
    for (let i = 0; i < NR_WATCHDOGS; i++) {
      const d = this.watchdogDeadline[i]!;
      if (this.watchdogActive(i) && d > 0 && d <= nowMs) return i;
    }
    return -1;
  }

  // --- word size latch (64-bit or 32-bit compat layouts) ---
  get wordSize(): number { return Atomics.load(this.i32, I.wordSize); }
  set wordSize(bits: number) { Atomics.store(this.i32, I.wordSize, bits); }

  get vmAssist(): number { return Atomics.load(this.i32, I.vmAssist); }
  set vmAssist(v: number) { Atomics.store(this.i32, I.vmAssist, v); }

  // --- vCPU control ---
  vcpuCtl(id: number): VcpuCtl { return Atomics.load(this.i32, I.vcpuCtl + id) as VcpuCtl; }
  setVcpuCtl(id: number, ctl: VcpuCtl): void {
    Atomics.store(this.i32, I.vcpuCtl + id, ctl);
    this.wakeVcpu(id);
  }

  /** Bump and notify the vCPU's wake word (for SCHEDOP_block and pause). */
  wakeVcpu(id: number): void {
    Atomics.add(this.i32, I.vcpuWake + id, 1);
    Atomics.notify(this.i32, I.vcpuWake + id);
  }

  /**
   * A stopped worker waits here before its thread ends, so the main thread never signals a
   * thread that no longer exists (pthread_kill on a dead thread is undefined behaviour).
   */
  waitReleased(id: number): void {
    while (Atomics.load(this.i32, I.vcpuReleased + id) === 0) Atomics.wait(this.i32, I.vcpuReleased + id, 0, 1000);
  }

  releaseVcpu(id: number): void {
    Atomics.store(this.i32, I.vcpuReleased + id, 1);
    Atomics.notify(this.i32, I.vcpuReleased + id);
  }

  wakeSeq(id: number): number { return Atomics.load(this.i32, I.vcpuWake + id); }

  /** Sleep until the wake word changes from `seq` or `ms` pass. */
  waitWake(id: number, seq: number, ms: number): void {
    Atomics.wait(this.i32, I.vcpuWake + id, seq, ms);
  }

  // --- HVM params and special addresses ---
  param(index: number): bigint { return Atomics.load(this.big, B.params + index); }
  setParam(index: number, value: bigint): void { Atomics.store(this.big, B.params + index, BigInt.asIntN(64, value)); }

  get sharedInfoGpa(): number { return Number(Atomics.load(this.big, B.sharedInfoGpa)); }
  set sharedInfoGpa(gpa: number) { Atomics.store(this.big, B.sharedInfoGpa, BigInt(gpa)); }

  get hypercallPageGpa(): number { return Number(Atomics.load(this.big, B.hypercallPageGpa)); }
  set hypercallPageGpa(gpa: number) { Atomics.store(this.big, B.hypercallPageGpa, BigInt(gpa)); }
}
