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
  /** Network interfaces (netback), handle 0, 1, … in list order. Absent in older saved settings. */
  readonly vifs?: readonly VifSetting[];
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

/** One vif, as xl's `vif = [ '...' ]` entries describe it. */
export interface VifSetting {
  /** Lower-case `xx:xx:xx:xx:xx:xx`, a unicast address (the toolstack fills in a Xen-OUI one). */
  readonly mac: string;
  /** Host Linux bridge the vif's TAP device joins; absent: the vif is on dom0's internal switch. */
  readonly bridge?: string;
  /** The guest's IPv4 address as the config states it (published in xenstore, not enforced). */
  readonly ip?: string;
  /** Transmit rate limit in bytes per second (xl's `rate=`); absent: unlimited. */
  readonly rateBytesPerSec?: number;
}

/** At most this many vifs per domain (Xen's netfront handles are small integers too). */
export const MAX_VIFS = 8;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Check one vif from the control socket; a one-line problem or null. */
export function vifProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'each vif must be an object';
  const o = v as Record<string, unknown>;
  if (typeof o.mac !== 'string' || !MAC_RE.test(o.mac)) return `bad vif mac '${String(o.mac)}' (want xx:xx:xx:xx:xx:xx, lower case)`;
  if ((parseInt(o.mac.slice(0, 2), 16) & 1) !== 0) return `vif mac ${o.mac} is a multicast address`;
  if (o.bridge !== undefined && (typeof o.bridge !== 'string' || !IFNAME_RE.test(o.bridge))) return `bad bridge name '${String(o.bridge)}'`;
  if (o.ip !== undefined && (typeof o.ip !== 'string' || !IPV4_RE.test(o.ip))) return `bad vif ip '${String(o.ip)}'`;
  if (o.rateBytesPerSec !== undefined && (!Number.isInteger(o.rateBytesPerSec) || (o.rateBytesPerSec as number) < 1)) {
    return 'vif rate must be a positive whole number of bytes per second';
  }
  return null;
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
  if (o.vifs !== undefined) {
    if (!Array.isArray(o.vifs) || o.vifs.length > MAX_VIFS) return `vifs must be a list of at most ${MAX_VIFS} vifs`;
    const macs = new Set<string>();
    for (const v of o.vifs as unknown[]) {
      const p = vifProblem(v);
      if (p !== null) return p;
      const mac = (v as VifSetting).mac;
      if (macs.has(mac)) return `two vifs have mac ${mac}`;
      macs.add(mac);
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
