// domain-settings.ts: (control protocol) what the toolstack needs to build (and rebuild, on restart) one domain —
// from a config file or from `pvkvm run`'s options — and its validation.
import { GUEST_LIMITS } from './guest-limits.ts';

export type OnAction = 'destroy' | 'restart' | 'preserve' | 'rename-restart' | 'coredump-destroy' | 'coredump-restart';

export interface DomainSettings {
  readonly name: string;
  /** Absolute path of the kernel image (read by dom0 at create time). */
  readonly kernel: string;
  readonly cmdline: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  /** Absolute paths of boot modules. */
  readonly modules: readonly string[];
  /** PV disks (blkback), in xvda, xvdb… order. Absent in settings saved by older versions. */
  readonly disks?: readonly DiskSetting[];
  /** Emulated ATA disks (the full-virtualization comparator), on the primary IDE channel. */
  readonly emulatedDisks?: readonly DiskSetting[];
  /** Where the guest's console is: the PV console ring (default) or an emulated 16550 UART. */
  readonly console?: 'pv' | 'uart';
  /**
   * Show the hypervisor console (console_io, port 0xE9) on the domain's console all along; by
   * default it is shown only until the guest first writes to its PV console.
   */
  readonly showConsoleIo?: boolean;
  readonly onPoweroff: OnAction;
  readonly onReboot: OnAction;
  readonly onCrash: OnAction;
}

export interface DiskSetting {
  /** Absolute path of a raw image file. */
  readonly target: string;
  readonly vdev: string;
  readonly access: 'rw' | 'ro';
}

const ACTIONS: readonly OnAction[] = ['destroy', 'restart', 'preserve', 'rename-restart', 'coredump-destroy', 'coredump-restart'];

/** Check settings that arrived over the control socket; returns a one-line problem or null. */
export function settingsProblem(s: unknown): string | null {
  if (typeof s !== 'object' || s === null) return 'settings must be an object';
  const o = s as Record<string, unknown>;
  if (typeof o.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(o.name)) {
    return 'name must be 1-64 characters of letters, digits, ".", "_" or "-"';
  }
  if (typeof o.kernel !== 'string' || !o.kernel.startsWith('/')) return 'kernel must be an absolute path';
  if (typeof o.cmdline !== 'string') return 'cmdline must be a string';
  const { minRamMiB, maxRamMiB, maxVcpus } = GUEST_LIMITS;
  if (!Number.isInteger(o.memoryMiB) || (o.memoryMiB as number) < minRamMiB || (o.memoryMiB as number) > maxRamMiB) {
    return `memory must be ${minRamMiB}..${maxRamMiB} MiB`;
  }
  if (!Number.isInteger(o.vcpus) || (o.vcpus as number) < 1 || (o.vcpus as number) > maxVcpus) return `vcpus must be 1..${maxVcpus}`;
  if (!Array.isArray(o.modules) || !o.modules.every((m) => typeof m === 'string' && m.startsWith('/'))) {
    return 'modules must be absolute paths';
  }
  if (o.disks !== undefined) {
    if (!Array.isArray(o.disks) || o.disks.length > 16) return 'disks must be a list of at most 16 disks';
    const vdevs = new Set<string>();
    for (const d of o.disks as Record<string, unknown>[]) {
      if (typeof d !== 'object' || d === null) return 'each disk must be an object';
      if (typeof d.target !== 'string' || !d.target.startsWith('/')) return 'a disk target must be an absolute path';
      if (typeof d.vdev !== 'string' || !/^(xvd|sd|hd)[a-z]{1,2}$/.test(d.vdev) || vdevs.has(d.vdev)) return `bad or repeated vdev '${String(d.vdev)}'`;
      vdevs.add(d.vdev);
      if (d.access !== 'rw' && d.access !== 'ro') return 'disk access must be rw or ro';
    }
  }
  if (o.emulatedDisks !== undefined) {
    if (!Array.isArray(o.emulatedDisks) || o.emulatedDisks.length > 1) return 'at most one emulated disk (primary master)';
    for (const d of o.emulatedDisks as Record<string, unknown>[]) {
      if (typeof d !== 'object' || d === null || typeof d.target !== 'string' || !d.target.startsWith('/')) {
        return 'an emulated disk target must be an absolute path';
      }
      if (d.access !== 'rw' && d.access !== 'ro') return 'disk access must be rw or ro';
    }
  }
  if (o.console !== undefined && o.console !== 'pv' && o.console !== 'uart') return "console must be 'pv' or 'uart'";
  if (o.showConsoleIo !== undefined && typeof o.showConsoleIo !== 'boolean') return 'showConsoleIo must be true or false';
  for (const k of ['onPoweroff', 'onReboot', 'onCrash']) {
    if (!ACTIONS.includes(o[k] as OnAction)) return `${k} must be one of ${ACTIONS.join(', ')}`;
  }
  return null;
}
