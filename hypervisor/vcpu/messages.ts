// messages.ts: the typed messages between the main thread and a vCPU worker.
import type { MemmapEntry } from '../boot/pvh-layout.ts';
import type { EmulatedDevicesInit } from '../devices/domain-devices.ts';

/** Everything a vCPU worker needs to run, passed as workerData. */
export interface VcpuWorkerInit {
  readonly domid: number;
  readonly name: string;
  readonly uuid: Uint8Array;
  readonly privileged: boolean;
  readonly vcpuId: number;
  readonly nrVcpus: number;
  readonly vcpuFd: number;
  readonly vmFd: number;
  readonly vcpuMmapSize: number;
  readonly memFd: number;
  readonly memBytes: number;
  /** Address of the main thread's mapping of the memfd; new KVM slots point into it. */
  readonly memHostAddr: bigint;
  /** Where KVM's RAM slot maps the guest's RAM (vm-setup.ts: unmapped frames are protected there). */
  readonly kvmRamAddr: bigint;
  readonly ramBytes: number;
  /** Spare pages at the end of the memfd for frames placed beyond RAM. */
  readonly poolOffset: number;
  readonly poolPages: number;
  /** The hypervisor-wide shared buffer (all domains' slots) and this domain's id in it. */
  readonly hvSab: SharedArrayBuffer;
  readonly regionsSab: SharedArrayBuffer;
  readonly balloonSab: SharedArrayBuffer;
  /** Live exit counters, all vCPUs of the domain (exit-stats.ts). */
  readonly exitStatsSab: SharedArrayBuffer;
  /** Live per-hypercall counters, all vCPUs of the domain (hypercall/stats.ts). */
  readonly hypercallStatsSab: SharedArrayBuffer;
  readonly memmap: readonly MemmapEntry[];
  /** KVM exits on instructions its emulator lacks (vm-setup.ts); pvkvm then emulates them. */
  readonly emulationExits: boolean;
  /** Emulated PC devices (full-virtualization comparator); absent for a pure PV domain. */
  readonly devices?: EmulatedDevicesInit;
}

/** Why a vCPU stopped the domain without a guest-requested shutdown. */
export interface FaultReport {
  readonly vcpuId: number;
  /** Short machine-readable kind: triple-fault, internal-error, fail-entry, unhandled-exit, host-error. */
  readonly kind: string;
  readonly detail: string;
  readonly rip: string;
}

export interface VcpuStats {
  readonly exits: Record<string, number>;
  readonly hypercalls: Record<string, number>;
}

export type WorkerToMain =
  | { readonly type: 'ready'; readonly vcpuId: number; readonly tid: bigint }
  | { readonly type: 'console'; readonly text: string; /** monotonicMs() when the guest wrote it. */ readonly atMs: number }
  /** The UART wrote to its console ring after the main thread last drained it. */
  | { readonly type: 'uart-output' }
  | { readonly type: 'shutdown'; readonly reason: number }
  | { readonly type: 'remote-shutdown'; readonly domid: number; readonly reason: number }
  | { readonly type: 'kick'; readonly vcpuId: number }
  /** Parked for a save after SHUTDOWN_suspend: its KVM state is consistent and may be read. */
  | { readonly type: 'suspended'; readonly vcpuId: number }
  | { readonly type: 'fault'; readonly fault: FaultReport }
  | { readonly type: 'first-entry'; readonly vcpuId: number; readonly atEpochMs: number }
  | { readonly type: 'stopped'; readonly vcpuId: number; readonly stats: VcpuStats };
