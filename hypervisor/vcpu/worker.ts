// worker.ts: a vCPU thread — KVM_RUN in a loop, exits handled synchronously on this thread.
import { parentPort } from 'node:worker_threads';
import { KvmVcpu, type VcpuExit } from '../kvm/vcpu.ts';
import { KVM_EXIT } from '../kvm/ioctls.ts';
import { sampleClock, writeTimeInfo } from '../time/pvclock.ts';
import { applyHvmContext } from '../boot/cpu-state.ts';
import type { HypercallTable } from '../hypercall/table.ts';
import { libc, mapShared, nameThread, HostError } from '../../host/libc.ts';
import { VcpuCtl, VCPU_FLAG } from '../state/shared-state.ts';
import { ExitCounter } from './exit-stats.ts';
import { buildHypercallTable } from '../hypercall/index.ts';
import { hypercallCounters } from '../hypercall/stats.ts';
import { WorkerDomainEnv } from './domain-env.ts';
import { HypercallTrap } from './hypercall-trap.ts';
import { ExitHandler } from './exit-handler.ts';
import { KvmVm } from '../kvm/vm.ts';
import { KvmIrqLine } from '../devices/irq-line.ts';
import { buildDomainDevices } from '../devices/domain-devices.ts';
import type { VcpuWorkerInit, WorkerToMain, FaultReport } from './messages.ts';
import { InstructionEmulator } from './emulation.ts';
import { SHUTDOWN } from '../../abi/sched.ts';

const post = (m: WorkerToMain): void => parentPort!.postMessage(m);

/** Calls per hypercall name, from the table's counters. */
function hypercallCounts(table: HypercallTable): Record<string, number> {
  const out: Record<string, number> = {};
  table.counts.forEach((n, nr) => {
    if (n > 0) out[table.name(nr) ?? `#${nr}`] = n;
  });
  return out;
}

function main(init: VcpuWorkerInit): void {
  nameThread(`vcpu-d${init.domid}v${init.vcpuId}`);
  const memMap = mapShared(init.memFd, init.memBytes);
  const mem = memMap.bytes;
  const env = new WorkerDomainEnv(init, mem, post);
  const vcpu = new KvmVcpu(init.vcpuFd, init.vcpuMmapSize);
  const table = buildHypercallTable(hypercallCounters(init.hypercallStatsSab, init.vcpuId));
  const id = init.vcpuId;
  const ctl = (): VcpuCtl => env.shared.vcpuCtl(id);
  const trap = new HypercallTrap(vcpu, id, env, table, () => ctl() !== VcpuCtl.Run);
  const devices = buildDomainDevices(init.devices, id, (gsi) => new KvmIrqLine(new KvmVm(init.vmFd), gsi), () => post({ type: 'uart-output' }));
  const emulator = new InstructionEmulator(vcpu, env.mem, new KvmVm(init.vmFd), init.emulationExits);
  const handler = new ExitHandler(vcpu, id, env, trap, new ExitCounter(init.exitStatsSab, id), devices, emulator);

  // The TSC ↔ system-time pairing, taken once per vCPU on its own thread (a vCPU ioctl).
  let clock = sampleClock(vcpu, Math.max(vcpu.tscKhz(), 1));
  /** Publish system time for this vCPU (pvclock in its vcpu_info.time). */
  const publishTime = (): void => {
    const vi = env.shared.vcpuInfoOffset(id);
    if (vi >= 0) writeTimeInfo(env.mem.view, vi, clock);
  };
  publishTime();
  post({ type: 'ready', vcpuId: id, tid: libc.pthreadSelf() });
  let fault: FaultReport | undefined;
  let first = true;
  /** Parked for a save (SHUTDOWN_suspend), and whether this vCPU made the suspend hypercall. */
  let parked = false;
  let suspendCaller = false;
  try {
    for (;;) {
      // Clear the kick before reading the control word: a kick that lands after this point is
      // seen either by the read below or by KVM_RUN returning at once (no lost pause/stop).
      vcpu.immediateExit = false;
      // Console input queued before a kick is taken in here, after the kick flag was cleared.
      devices?.poll();
      const c = ctl();
      if (c === VcpuCtl.Stop) break;
      const reason = env.shared.shutdownReason;
      if (reason === SHUTDOWN.values.suspend) {
        if (!parked) {
          // KVM finishes an exit's port I/O (advancing RIP past the hypercall trap's `out`, writing
          // RAX back) only on the next KVM_RUN: enter once with immediate_exit so the state the
          // main thread saves is consistent (KVM api.rst, KVM_EXIT_IO).
          if (!first) {
            vcpu.immediateExit = true;
            vcpu.enterRaw();
            vcpu.immediateExit = false;
          }
          parked = true;
          post({ type: 'suspended', vcpuId: id });
        }
        const seq = env.shared.wakeSeq(id);
        if (env.shared.shutdownReason === reason && ctl() !== VcpuCtl.Stop) env.shared.waitWake(id, seq, 1000);
        continue;
      }
      if (reason >= 0) break;
      if (parked) {
        // The save was cancelled (`pvkvm save -c`): the guest resumes in this domain and its
        // suspend hypercall returns 1, as Xen's suspend_cancel.
        parked = false;
        if (suspendCaller) vcpu.setReg('rax', 1n);
        suspendCaller = false;
      }
      const flags = env.shared.vcpuFlags(id);
      if (c === VcpuCtl.Pause || (flags & VCPU_FLAG.UP) === 0) {
        // Paused by the toolstack, or down (never brought up, or VCPUOP_down): wait.
        const seq = env.shared.wakeSeq(id);
        if (ctl() === c && env.shared.vcpuFlags(id) === flags) env.shared.waitWake(id, seq, 1000);
        continue;
      }
      if ((flags & VCPU_FLAG.CONTEXT_PENDING) !== 0) {
        // VCPUOP_initialise ran on another vCPU; registers are loaded here, on our own thread.
        applyHvmContext(vcpu, env.shared.loadContext(id));
        env.shared.setVcpuFlags(id, 0, VCPU_FLAG.CONTEXT_PENDING);
        publishTime();
      }
      if ((flags & VCPU_FLAG.RESAMPLE_CLOCK) !== 0) {
        // Restored: the TSC was set to the saved value after our first sample, and dom0 has since
        // written the saved memory over vcpu_info; pair the clocks again and republish.
        clock = sampleClock(vcpu, Math.max(vcpu.tscKhz(), 1));
        env.shared.setVcpuFlags(id, 0, VCPU_FLAG.RESAMPLE_CLOCK);
        publishTime();
      }
      if (first) {
        // The guest's first instruction runs as this KVM_RUN enters it (boot-time tracing).
        first = false;
        post({ type: 'first-entry', vcpuId: id, atEpochMs: performance.timeOrigin + performance.now() });
      }
      const exitReason = vcpu.enterRaw();
      if (handler.isHypercallTrap(exitReason)) {
        handler.hypercall();
        if (env.shared.shutdownReason === SHUTDOWN.values.suspend) suspendCaller = true;
        continue;
      }
      const exit: VcpuExit = exitReason === KVM_EXIT.INTR ? { kind: 'intr' } : vcpu.decodeExit();
      const outcome = handler.handle(exit);
      if (outcome.stop) {
        fault = outcome.fault;
        break;
      }
    }
  } catch (err) {
    const detail = err instanceof HostError ? err.message : String(err instanceof Error ? err.stack : err);
    fault = { vcpuId: id, kind: 'host-error', detail, rip: '?' };
  }
  handler.flushDebugcon();
  devices?.close();
  if (fault !== undefined) post({ type: 'fault', fault });
  post({ type: 'stopped', vcpuId: id, stats: { exits: handler.exitCounts, hypercalls: hypercallCounts(table) } });
  // Nothing on this thread touches guest memory or kvm_run any more: drop the mappings so the
  // domain's memory and vCPU are freed with it.
  vcpu.unmapRun();
  libc.munmap(memMap.ptr, init.memBytes);
  env.shared.waitReleased(id);
}

// The worker starts before its domain is fully built (to overlap its start-up with VM set-up);
// the first message carries everything it needs.
parentPort!.once('message', (init: VcpuWorkerInit) => main(init));
