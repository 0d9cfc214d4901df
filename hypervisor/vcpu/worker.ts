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
  const clock = sampleClock(vcpu, Math.max(vcpu.tscKhz(), 1));
  /** Publish system time for this vCPU (pvclock in its vcpu_info.time). */
  const publishTime = (): void => {
    const vi = env.shared.vcpuInfoOffset(id);
    if (vi >= 0) writeTimeInfo(env.mem.view, vi, clock);
  };
  publishTime();
  post({ type: 'ready', vcpuId: id, tid: libc.pthreadSelf() });
  let fault: FaultReport | undefined;
  let first = true;
  try {
    for (;;) {
      // Clear the kick before reading the control word: a kick that lands after this point is
      // seen either by the read below or by KVM_RUN returning at once (no lost pause/stop).
      vcpu.immediateExit = false;
      // Console input queued before a kick is taken in here, after the kick flag was cleared.
      devices?.poll();
      const c = ctl();
      if (c === VcpuCtl.Stop || env.shared.shutdownReason >= 0) break;
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
      if (first) {
        // The guest's first instruction runs as this KVM_RUN enters it (boot-time tracing).
        first = false;
        post({ type: 'first-entry', vcpuId: id, atEpochMs: performance.timeOrigin + performance.now() });
      }
      const reason = vcpu.enterRaw();
      if (handler.isHypercallTrap(reason)) {
        handler.hypercall();
        continue;
      }
      const exit: VcpuExit = reason === KVM_EXIT.INTR ? { kind: 'intr' } : vcpu.decodeExit();
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
