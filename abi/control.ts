// control.ts: the toolstack protocol between the `pvkvm` CLI and dom0 (RUN_DIR/dom0.sock) — one
// JSON object per line. Like the privileged interface it may change between releases; unlike the
// guest ABI it is pvkvm's own.
//
//   CLI → dom0:  ControlRequest {id, op, …}           dom0 → CLI: ControlReply {id, ok, result | error}
//   A `console` request (or `create` with console: true) turns the connection into a console
//   stream: ConsoleStreamMessage from dom0, ConsoleInput from the CLI.
import type { DomainSettings, VifSetting } from './domain-settings.ts';

export const CONTROL_OPS = ['ping', 'create', 'list', 'info', 'pause', 'unpause', 'destroy', 'shutdown', 'wait', 'stop', 'console', 'dmesg', 'mem-set', 'mem-max',
  'vcpu-pin', 'vcpu-list', 'vcpu-set', 'block-list', 'block-attach', 'block-detach', 'top',
  'network-attach', 'network-detach', 'network-list', 'save', 'restore'] as const;
export type ControlOp = (typeof CONTROL_OPS)[number];

/** Longest request line dom0 accepts (settings are small; kernels are read by path). */
export const CONTROL_MAX_LINE = 1 << 20;

export interface ControlRequest {
  readonly id?: number;
  readonly op: string;
  /** The domain a request is about: its name or id. */
  readonly domain?: string;
  /** create: what to build. */
  readonly settings?: DomainSettings;
  /** shutdown: 'poweroff' (default) or 'reboot'. */
  readonly mode?: string;
  /** shutdown: how long the guest has before it is destroyed. */
  readonly timeoutMs?: number;
  /** shutdown: false to be answered once the request is written, not when the domain has gone. */
  readonly wait?: boolean;
  /** console: replay the console's backlog first (default true). */
  readonly backlog?: boolean;
  /** mem-set: the new balloon target in MiB; mem-max: the new maximum. */
  readonly memoryMiB?: number;
  /** list: put Domain-0 first, as xl does. */
  readonly dom0?: boolean;
  /** vcpu-pin: the vCPU number, or 'all'. */
  readonly vcpu?: number | 'all';
  /** vcpu-set: how many vCPUs (0..vcpus-1) the guest may have online. */
  readonly vcpus?: number;
  /** vcpu-pin: host CPU numbers the vCPU thread(s) may run on. */
  readonly cpus?: readonly number[];
  /** dmesg: empty the hypervisor log after reading it. */
  readonly clear?: boolean;
  /** create: turn this connection into the new domain's console stream (as `pvkvm run` does). */
  readonly console?: boolean;
  /** network-attach: the vif to plug in; mac and devid may be absent (the toolstack picks them). */
  readonly vif?: Partial<VifSetting>;
  /** save: where the state goes; restore: the file to read (paths as dom0 sees them). */
  readonly file?: string;
  /** save: keep the domain running afterwards (xl save -c) instead of destroying it. */
  readonly keep?: boolean;
  /** network-detach: the vif's handle… */
  readonly devid?: number;
  /** …or its MAC (lower case); exactly one of the two. */
  readonly mac?: string;
  /** block-attach: the disk to plug in (a DiskSetting: target, vdev, access). */
  readonly disk?: unknown;
  /** block-detach: the disk's vdev name (xvdb) or devid as a string. */
  readonly vdev?: string;
}

export type ControlReply =
  | { readonly id?: number; readonly ok: true; readonly result: unknown }
  | { readonly id?: number; readonly ok: false; readonly error: string };

/** create's (and console's) result. */
export interface CreatedDomain {
  readonly domid: number;
  readonly name: string;
}

/** How a domain ended, as dom0 reports it (the privileged interface's DomainEnd, flattened). */
export interface DomainEndReport {
  /** 'shutdown', 'fault' or 'destroyed'. */
  readonly kind: string;
  /** SHUTDOWN_* for 'shutdown'. */
  readonly reason: number;
  readonly detail: string;
  readonly fault_vcpu: number;
  readonly fault_kind: string;
  readonly fault_rip: string;
}

/** dom0 → CLI on a console stream; `data` is base64. */
export type ConsoleStreamMessage =
  | { readonly type: 'output'; readonly data: string }
  | { readonly type: 'end'; readonly end: DomainEndReport }
  | { readonly type: 'first-entry'; readonly atMs: number };

/** CLI → dom0 on a console stream: terminal input, base64. */
export interface ConsoleInput {
  readonly type: 'input';
  readonly data: string;
}

/** Traffic counters of one vif, from the guest's point of view (tx = sent by the guest). */
export interface VifCounters {
  readonly txPackets: number;
  readonly txBytes: number;
  /** Packets the guest sent that were refused (bad request, spoofed source MAC, rate limit). */
  readonly txDropped: number;
  readonly txErrors: number;
  readonly rxPackets: number;
  readonly rxBytes: number;
  /** Packets for the guest dropped because it had posted no buffers (or the queue was full). */
  readonly rxDropped: number;
}

/**
 * One domain in a `top` sample: counters that only grow (the CLI makes rates of two samples) and
 * the current memory and vCPUs. Domain-0's block and net fields are zero (it serves them).
 */
export interface TopRow {
  readonly domid: number;
  readonly name: string;
  readonly state: string;
  readonly cpu_time_s: number;
  readonly memory_mib: number;
  readonly max_memory_mib: number;
  /** vCPUs that are up (as xentop's VCPUS). */
  readonly vcpus: number;
  /** KVM exits, all kinds, all vCPUs. */
  readonly exits: number;
  readonly vbds: number;
  readonly vbd: { readonly rdReq: number; readonly wrReq: number; readonly rdSect: number; readonly wrSect: number; readonly errors: number };
  readonly vifs: number;
  readonly net: { readonly txPackets: number; readonly txBytes: number; readonly rxPackets: number; readonly rxBytes: number; readonly txDropped: number; readonly rxDropped: number };
}

/**
 * One vif as `network-list` (its result: VifStatus[]) and `info` (its `vifs`) show it;
 * network-attach and network-detach answer the VifSetting they plugged or unplugged.
 */
export interface VifStatus {
  readonly domid: number;
  /** The vif's handle (devid): vif DOMID.HANDLE. */
  readonly devid: number;
  readonly mac: string;
  /** Host bridge, or null on the internal switch. */
  readonly bridge: string | null;
  /** Host TAP device (vifDOMID.HANDLE), or null without one. */
  readonly tap: string | null;
  /** XenbusState name of the backend, e.g. "Connected"; "NotServed" for a configured vif no backend serves (after a dom0 restart). */
  readonly state: string;
  readonly counters: VifCounters;
  /** 'ne2k_isa' for the emulated NE2000 (a switch port with no xenbus device); absent for a PV vif. */
  readonly model?: 'ne2k_isa';
}
