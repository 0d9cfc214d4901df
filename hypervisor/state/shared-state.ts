// shared-state.ts: per-domain state every thread sees — one slot of the hypervisor's shared buffer.
//
// Single writers use plain stores; anything two threads may race on goes through Atomics. The
// slot lives in a SharedArrayBuffer common to all domains, so a vCPU of one domain can wake or
// signal another domain's vCPUs (event channels) without a message round trip.
import { HVM_NR_PARAMS } from '../../abi/hvm.ts';
import { GrantState, GRANT_STATE_BYTES } from './grant-state.ts';
import { FifoState, FIFO_STATE_BYTES, FIFO_VCPUS } from './fifo-state.ts';

export const MAX_VCPUS = 32;
if (FIFO_VCPUS !== MAX_VCPUS) throw new Error('fifo-state.ts must cover every vCPU');

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
  upcallVector: 8 + 3 * MAX_VCPUS, // MAX_VCPUS words: HVMOP_set_evtchn_upcall_vector (0 = none)
  alive: 8 + 4 * MAX_VCPUS, // 1 while other threads may reach this domain's memory and fds
  users: 9 + 4 * MAX_VCPUS, // threads currently inside this domain from outside (see acquire)
  vmFd: 10 + 4 * MAX_VCPUS,
  domid: 11 + 4 * MAX_VCPUS,
  nrVcpus: 12 + 4 * MAX_VCPUS,
  evtLock: 13 + 4 * MAX_VCPUS, // event-channel table lock
  callbackGsi: 14 + 4 * MAX_VCPUS, // PIC line used for the domain-wide callback vector (-1 = none)
  timerFiring: 16 + 4 * MAX_VCPUS, // MAX_VCPUS words: 1 while the timer thread fires that vCPU's timer
  vcpuFlags: 16 + 5 * MAX_VCPUS, // MAX_VCPUS words: VCPU_FLAG bits
  end: 16 + 6 * MAX_VCPUS,
} as const;

/** What the main thread asks of a vCPU worker. */
export const enum VcpuCtl { Run = 0, Pause = 1, Stop = 2 }

export const NR_WATCHDOGS = 2;

/** Per-vCPU state bits (Xen's is_initialised and the absence of _VPF_down). */
export const VCPU_FLAG = {
  INITIALISED: 1,
  UP: 2,
  /** A VCPUOP_initialise context waits to be loaded by the vCPU's own thread. */
  CONTEXT_PENDING: 4,
  /** Restored from a save: pair TSC and system time again before the first entry. */
  RESAMPLE_CLOCK: 8,
} as const;
/** u64 words of a saved vcpu_hvm_context (128 bytes). */
export const VCPU_CONTEXT_WORDS = 16;

/** Float64 slots (bigints via BigInt64Array for params and addresses). */
const B = {
  params: 0, // HVM_NR_PARAMS
  sharedInfoGpa: HVM_NR_PARAMS, // -1 = not placed
  hypercallPageGpa: HVM_NR_PARAMS + 1,
  /** Offset of the shared_info page in the domain's memfd (a pool page until the guest places it). */
  sharedInfoOffset: HVM_NR_PARAMS + 2,
  /** Host address of the main thread's mapping of the memfd, and its size. */
  memBase: HVM_NR_PARAMS + 3,
  memBytes: HVM_NR_PARAMS + 4,
  /** MAX_VCPUS: memfd offset of a vcpu_info placed by VCPUOP_register_vcpu_info (-1 = in shared_info). */
  vcpuInfo: HVM_NR_PARAMS + 5,
  /** MAX_VCPUS × 16: pending vcpu_hvm_context images. */
  vcpuContext: HVM_NR_PARAMS + 5 + MAX_VCPUS,
  end: HVM_NR_PARAMS + 5 + MAX_VCPUS + MAX_VCPUS * 16,
} as const;

/** Bytes one domain's state takes in the shared buffer (8-byte aligned). */
export const DOMAIN_SHARED_BYTES = (() => {
  const bigOff = Math.ceil((I.end * 4) / 8) * 8;
  return bigOff + B.end * 8 + NR_WATCHDOGS * 8 + 3 * MAX_VCPUS * 8 + GRANT_STATE_BYTES + FIFO_STATE_BYTES;
})();

export class DomainShared {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly big: BigInt64Array;
  /** Watchdog deadlines in ms since the epoch (0 = disarmed). */
  readonly watchdogDeadline: Float64Array;
  /**
   * Per-vCPU timers in system-time ns (0 = off): the single-shot deadline (set_timer_op and
   * VCPUOP_set_singleshot_timer), the periodic timer's next expiry, and its period.
   */
  readonly timerDeadline: BigInt64Array;
  readonly periodicNext: BigInt64Array;
  readonly timerPeriod: BigInt64Array;
  /** Grant-table bookkeeping (geometry, frame locations, maptrack). */
  readonly grants: GrantState;
  /** FIFO event channels: the ABI in force, event-array pages, control blocks, queues. */
  readonly fifo: FifoState;

  /** View the slot at `offset` of `sab` (a fresh private buffer when none is given). */
  constructor(sab?: SharedArrayBuffer, readonly offset = 0) {
    const bigOff = offset + Math.ceil((I.end * 4) / 8) * 8;
    const wdOff = bigOff + B.end * 8;
    const tOff = wdOff + NR_WATCHDOGS * 8;
    this.sab = sab ?? new SharedArrayBuffer(DOMAIN_SHARED_BYTES);
    this.i32 = new Int32Array(this.sab, offset, I.end);
    this.big = new BigInt64Array(this.sab, bigOff, B.end);
    this.watchdogDeadline = new Float64Array(this.sab, wdOff, NR_WATCHDOGS);
    this.timerDeadline = new BigInt64Array(this.sab, tOff, MAX_VCPUS);
    this.periodicNext = new BigInt64Array(this.sab, tOff + MAX_VCPUS * 8, MAX_VCPUS);
    this.timerPeriod = new BigInt64Array(this.sab, tOff + 2 * MAX_VCPUS * 8, MAX_VCPUS);
    this.grants = new GrantState(this.sab, tOff + 3 * MAX_VCPUS * 8);
    this.fifo = new FifoState(this.sab, tOff + 3 * MAX_VCPUS * 8 + GRANT_STATE_BYTES);
    if (sab === undefined) this.reset(0);
  }

  /** Initialise the slot for a new domain (main thread, before any worker sees it). */
  reset(domid: number): void {
    new Uint8Array(this.sab, this.offset, DOMAIN_SHARED_BYTES).fill(0);
    this.i32[I.shutdownReason] = -1;
    this.i32[I.shutdownCode] = -1;
    this.i32[I.callbackGsi] = -1;
    this.i32[I.domid] = domid;
    this.big[B.sharedInfoGpa] = -1n;
    this.big[B.hypercallPageGpa] = -1n;
    this.big[B.sharedInfoOffset] = -1n;
    for (let v = 0; v < MAX_VCPUS; v++) this.big[B.vcpuInfo + v] = -1n;
    this.grants.reset();
  }

  // --- vCPU bring-up (VCPUOP_initialise / up / down) ---
  vcpuFlags(vcpu: number): number { return Atomics.load(this.i32, I.vcpuFlags + vcpu); }
  setVcpuFlags(vcpu: number, set: number, clear = 0): void {
    for (;;) {
      const old = Atomics.load(this.i32, I.vcpuFlags + vcpu);
      if (Atomics.compareExchange(this.i32, I.vcpuFlags + vcpu, old, (old & ~clear) | set) === old) break;
    }
    this.wakeVcpu(vcpu);
  }

  /** Store a 128-byte vcpu_hvm_context for `vcpu` to load when it next runs. */
  storeContext(vcpu: number, ctx: Uint8Array): void {
    const v = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
    for (let i = 0; i < VCPU_CONTEXT_WORDS; i++) {
      Atomics.store(this.big, B.vcpuContext + vcpu * VCPU_CONTEXT_WORDS + i, v.getBigInt64(i * 8, true));
    }
  }

  loadContext(vcpu: number): DataView {
    const v = new DataView(new ArrayBuffer(VCPU_CONTEXT_WORDS * 8));
    for (let i = 0; i < VCPU_CONTEXT_WORDS; i++) {
      v.setBigInt64(i * 8, Atomics.load(this.big, B.vcpuContext + vcpu * VCPU_CONTEXT_WORDS + i), true);
    }
    return v;
  }

  /** Memfd offset of vCPU `vcpu`'s vcpu_info, or -1 when it has none (vCPU ≥ 32, unregistered). */
  vcpuInfoOffset(vcpu: number): number {
    const reg = Number(Atomics.load(this.big, B.vcpuInfo + vcpu));
    if (reg >= 0) return reg;
    const si = this.sharedInfoOffset;
    return si < 0 || vcpu >= 32 ? -1 : si + vcpu * 64;
  }

  registeredVcpuInfo(vcpu: number): boolean { return Atomics.load(this.big, B.vcpuInfo + vcpu) >= 0n; }
  setVcpuInfoOffset(vcpu: number, offset: number): void { Atomics.store(this.big, B.vcpuInfo + vcpu, BigInt(offset)); }

  // --- cross-domain access (event channels, grants) ---
  get domid(): number { return this.i32[I.domid]!; }

  /** Publish how other threads reach this domain, then mark it reachable. */
  publish(info: { vmFd: number; memBase: bigint; memBytes: number; nrVcpus: number; sharedInfoOffset: number }): void {
    this.i32[I.vmFd] = info.vmFd;
    this.i32[I.nrVcpus] = info.nrVcpus;
    this.big[B.memBase] = info.memBase;
    this.big[B.memBytes] = BigInt(info.memBytes);
    this.big[B.sharedInfoOffset] = BigInt(info.sharedInfoOffset);
    Atomics.store(this.i32, I.alive, 1);
  }

  get vmFd(): number { return this.i32[I.vmFd]!; }
  get nrVcpus(): number { return this.i32[I.nrVcpus]!; }
  get memBase(): bigint { return this.big[B.memBase]!; }
  get memBytes(): number { return Number(this.big[B.memBytes]); }

  /**
   * Enter this domain from another thread: returns false once it is dying. Every successful
   * acquire must be paired with release(); the main thread frees memory and fds only after
   * `retire()` has seen the user count drop to zero.
   */
  acquire(): boolean {
    Atomics.add(this.i32, I.users, 1);
    if (Atomics.load(this.i32, I.alive) === 1) return true;
    this.release();
    return false;
  }

  release(): void {
    if (Atomics.sub(this.i32, I.users, 1) === 1) Atomics.notify(this.i32, I.users);
  }

  /** Make the domain unreachable and wait (briefly) for threads already inside to leave. */
  retire(): void {
    Atomics.store(this.i32, I.alive, 0);
    for (;;) {
      const n = Atomics.load(this.i32, I.users);
      if (n === 0) return;
      Atomics.wait(this.i32, I.users, n, 10);
    }
  }

  get alive(): boolean { return Atomics.load(this.i32, I.alive) === 1; }

  /** The event-channel table lock (a spin/wait lock; held only for short table updates). */
  lockEvents(): void {
    while (Atomics.compareExchange(this.i32, I.evtLock, 0, 1) !== 0) Atomics.wait(this.i32, I.evtLock, 1, 1);
  }

  unlockEvents(): void {
    Atomics.store(this.i32, I.evtLock, 0);
    Atomics.notify(this.i32, I.evtLock, 1);
  }

  /**
   * Timer firing handshake (Dekker-style, all sequentially consistent): the timer thread raises
   * `firing` before consuming a deadline; a vCPU that changed its deadline then waits for an
   * in-flight firing to finish, so no VIRQ_TIMER lands after set_timer_op(0) has returned.
   */
  beginTimerFiring(vcpu: number): void { Atomics.store(this.i32, I.timerFiring + vcpu, 1); }
  endTimerFiring(vcpu: number): void {
    Atomics.store(this.i32, I.timerFiring + vcpu, 0);
    Atomics.notify(this.i32, I.timerFiring + vcpu);
  }
  waitTimerFiring(vcpu: number): void {
    while (Atomics.load(this.i32, I.timerFiring + vcpu) === 1) Atomics.wait(this.i32, I.timerFiring + vcpu, 1, 5);
  }

  upcallVector(vcpu: number): number { return Atomics.load(this.i32, I.upcallVector + vcpu); }
  setUpcallVector(vcpu: number, vector: number): void { Atomics.store(this.i32, I.upcallVector + vcpu, vector); }

  get callbackGsi(): number { return Atomics.load(this.i32, I.callbackGsi); }
  set callbackGsi(gsi: number) { Atomics.store(this.i32, I.callbackGsi, gsi); }

  get sharedInfoOffset(): number { return Number(Atomics.load(this.big, B.sharedInfoOffset)); }
  set sharedInfoOffset(off: number) { Atomics.store(this.big, B.sharedInfoOffset, BigInt(off)); }

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

  /** Undo a SHUTDOWN_suspend whose save was cancelled: the domain runs on (main thread). */
  cancelSuspend(): void {
    Atomics.store(this.i32, I.shutdownCode, -1);
    Atomics.store(this.i32, I.shutdownReason, -1);
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
