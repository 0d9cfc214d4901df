// domain-settings.ts: (control protocol) what the toolstack needs to build (and rebuild, on restart) one domain —
// from a config file or from `pvkvm run`'s options — and its validation.
import { GUEST_LIMITS } from './guest-limits.ts';

export type OnAction = 'destroy' | 'restart' | 'preserve' | 'rename-restart' | 'coredump-destroy' | 'coredump-restart';

export interface DomainSettings {
  readonly name: string;
  /** Absolute path of the kernel image (read by dom0 at create time). */
  readonly kernel: string;
  readonly cmdline: string;
  /** The balloon target the guest starts with (xenstore memory/target). */
  readonly memoryMiB: number;
  /**
   * xl's maxmem: the RAM the domain is built with (memory/static-max, and the most the balloon
   * may give back to it). Absent: memoryMiB.
   */
  readonly maxMemoryMiB?: number;
  /**
   * xl's cpus: hard CPU affinity of the vCPU threads (host CPU numbers). One entry: every vCPU;
   * more: vCPU i gets entry i. Absent: not pinned.
   */
  readonly cpuAffinity?: readonly (readonly number[])[];
  /** xl's uuid (lower case): the domain's /vm/UUID path in xenstore. Absent: the hypervisor's. */
  readonly uuid?: string;
  /** xl's vcpus: how many vCPUs start online (xenstore cpu/N/availability). */
  readonly vcpus: number;
  /**
   * xl's maxvcpus: how many vCPUs the domain is built with; those from `vcpus` on start offline
   * and `pvkvm vcpu-set` brings them online. Absent: vcpus.
   */
  readonly maxVcpus?: number;
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
  /** What a watchdog expiry does (SHUTDOWN_watchdog). Absent: destroy, xl's default. */
  readonly onWatchdog?: OnAction;
}

export interface DiskSetting {
  /** Absolute path of a raw image file. */
  readonly target: string;
  readonly vdev: string;
  readonly access: 'rw' | 'ro';
}

/** One vif, as xl's `vif = [ '...' ]` entries describe it. */
export interface VifSetting {
  /** Lower-case `xx:xx:xx:xx:xx:xx`, a unicast address (the CLI fills in a Xen-OUI one: xenOuiMac). */
  readonly mac: string;
  /**
   * The vif's handle (xl's DEVID): vif DOMID.DEVID. Absent: its index in the list, as in xl. Kept
   * explicitly once a vif is hot-plugged or another detached, so a restarted domain keeps its handles.
   */
  readonly devid?: number;
  /** Host Linux bridge the vif's TAP device joins; absent: the vif is on dom0's internal switch. */
  readonly bridge?: string;
  /** The guest's IPv4 address as the config states it (published in xenstore, not enforced). */
  readonly ip?: string;
  /** Transmit rate limit in bytes per second (xl's `rate=`); absent: unlimited. */
  readonly rateBytesPerSec?: number;
  /** How often the rate's credit is replenished, in µs (xl's `rate=…@INTERVAL`); absent: 50 ms. */
  readonly rateIntervalUs?: number;
  /**
   * xl's model=: absent, the PV NIC (netfront/netback); 'ne2k_isa', an emulated NE2000 in the
   * hypervisor (ISA 0x300, IRQ 9; at most one per domain) on the same internal switch.
   */
  readonly model?: 'ne2k_isa';
}

/** At most this many vifs per domain (Xen's netfront handles are small integers too). */
export const MAX_VIFS = 8;
/** Largest vif handle: vifDOMID.DEVID must fit a Linux interface name (15 characters). */
export const MAX_VIF_DEVID = 255;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** A vif's handle: its own devid, else its index in the domain's list. */
export function vifDevid(v: VifSetting, index: number): number {
  return v.devid ?? index;
}

/**
 * Check one vif from the control socket; a one-line problem or null. `macOptional`: a vif for
 * network-attach, whose MAC the toolstack may still generate.
 */
export function vifProblem(v: unknown, opts: { macOptional?: boolean } = {}): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'each vif must be an object';
  const o = v as Record<string, unknown>;
  const known = ['mac', 'devid', 'bridge', 'ip', 'rateBytesPerSec', 'rateIntervalUs', 'model'];
  const stray = Object.keys(o).find((k) => !known.includes(k));
  if (stray !== undefined) return `unknown vif field '${stray.slice(0, 40)}'`;
  if (!(opts.macOptional === true && o.mac === undefined)) {
    if (typeof o.mac !== 'string' || !MAC_RE.test(o.mac)) return `bad vif mac '${String(o.mac).slice(0, 40)}' (want xx:xx:xx:xx:xx:xx, lower case)`;
    if ((parseInt(o.mac.slice(0, 2), 16) & 1) !== 0) return `vif mac ${o.mac} is a multicast address`;
  }
  if (o.devid !== undefined && (!Number.isInteger(o.devid) || (o.devid as number) < 0 || (o.devid as number) > MAX_VIF_DEVID)) {
    return `vif devid must be 0..${MAX_VIF_DEVID}`;
  }
  if (o.bridge !== undefined && (typeof o.bridge !== 'string' || !IFNAME_RE.test(o.bridge))) return `bad bridge name '${String(o.bridge).slice(0, 40)}'`;
  if (o.ip !== undefined && (typeof o.ip !== 'string' || !IPV4_RE.test(o.ip))) return `bad vif ip '${String(o.ip).slice(0, 40)}'`;
  if (o.rateBytesPerSec !== undefined && (!Number.isSafeInteger(o.rateBytesPerSec) || (o.rateBytesPerSec as number) < 1)) {
    return 'vif rate must be a positive whole number of bytes per second';
  }
  if (o.rateIntervalUs !== undefined && (!Number.isInteger(o.rateIntervalUs) || (o.rateIntervalUs as number) < 1 || (o.rateIntervalUs as number) > 0xffffffff)) {
    return 'vif rate interval must be 1..4294967295 microseconds';
  }
  if (o.rateIntervalUs !== undefined && o.rateBytesPerSec === undefined) return 'a vif rate interval needs a rate';
  if (o.model !== undefined && o.model !== 'ne2k_isa') return `vif model '${String(o.model).slice(0, 32)}' is not supported (only ne2k_isa)`;
  if (o.model !== undefined && (o.bridge !== undefined || o.rateBytesPerSec !== undefined)) return 'an emulated NIC (model=ne2k_isa) joins the internal switch only, without bridge= or rate=';
  return null;
}

/** Check a domain's whole vif list: each vif, then unique handles and MACs. */
export function vifsProblem(vifs: unknown): string | null {
  if (!Array.isArray(vifs) || vifs.length > MAX_VIFS) return `vifs must be a list of at most ${MAX_VIFS} vifs`;
  const macs = new Set<string>();
  const devids = new Set<number>();
  for (const [i, v] of (vifs as unknown[]).entries()) {
    const p = vifProblem(v);
    if (p !== null) return p;
    const { mac } = v as VifSetting;
    if (macs.has(mac)) return `two vifs have mac ${mac}`;
    macs.add(mac);
    const devid = vifDevid(v as VifSetting, i);
    if (devids.has(devid)) return `two vifs have devid ${devid}`;
    devids.add(devid);
  }
  return null;
}

/** 32-bit FNV-1a of a string's UTF-16 code units: small, stable, and good enough to spread MACs. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The MAC xl would leave to chance, made stable instead: Xen's OUI 00:16:3e (unicast, globally
 * administered) and 24 bits hashed from the domain name and the vif's devid, so a guest keeps its
 * address (and its DHCP lease) across restarts. `taken` holds the domain's other MACs; a clash
 * hashes again with a counter, so the result is unique within the domain.
 */
export function xenOuiMac(domainName: string, devid: number, taken: ReadonlySet<string> = new Set()): string {
  for (let attempt = 0; ; attempt++) {
    const h = fnv1a(`${domainName}\0${devid}${attempt === 0 ? '' : `\0${attempt}`}`);
    const tail = [h >>> 16, h >>> 8, h].map((b) => (b & 0xff).toString(16).padStart(2, '0')).join(':');
    const mac = `00:16:3e:${tail}`;
    if (!taken.has(mac)) return mac;
  }
}

const ACTIONS: readonly OnAction[] = ['destroy', 'restart', 'preserve', 'rename-restart', 'coredump-destroy', 'coredump-restart'];

/** Check settings that arrived over the control socket; returns a one-line problem or null. */
/** What is wrong with one disk (from a file or the control socket), or null. */
export function diskProblem(d: unknown): string | null {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return 'each disk must be an object';
  const o = d as Record<string, unknown>;
  if (typeof o.target !== 'string' || !o.target.startsWith('/') || o.target.length > 4096) return 'a disk target must be an absolute path';
  if (typeof o.vdev !== 'string' || !/^(xvd|sd|hd)[a-z]{1,2}$/.test(o.vdev)) return `bad vdev '${String(o.vdev).slice(0, 32)}'`;
  if (o.access !== 'rw' && o.access !== 'ro') return 'disk access must be rw or ro';
  return null;
}

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
  if (o.maxMemoryMiB !== undefined && (!Number.isInteger(o.maxMemoryMiB) || (o.maxMemoryMiB as number) < (o.memoryMiB as number) ||
      (o.maxMemoryMiB as number) > maxRamMiB)) {
    return `maxMemoryMiB must be memoryMiB..${maxRamMiB} MiB`;
  }
  if (o.uuid !== undefined && (typeof o.uuid !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(o.uuid))) {
    return 'uuid must be xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in lower-case hex';
  }
  if (o.cpuAffinity !== undefined) {
    const a = o.cpuAffinity;
    if (!Array.isArray(a) || a.length < 1 || a.length > maxVcpus ||
        !a.every((l) => Array.isArray(l) && l.length >= 1 && l.length <= 1024 && l.every((c) => Number.isInteger(c) && c >= 0 && c < 1024))) {
      return `cpuAffinity must be 1..${maxVcpus} lists of CPU numbers 0..1023`;
    }
  }
  if (!Number.isInteger(o.vcpus) || (o.vcpus as number) < 1 || (o.vcpus as number) > maxVcpus) return `vcpus must be 1..${maxVcpus}`;
  if (o.maxVcpus !== undefined && (!Number.isInteger(o.maxVcpus) || (o.maxVcpus as number) < (o.vcpus as number) ||
      (o.maxVcpus as number) > maxVcpus)) {
    return `maxVcpus must be vcpus..${maxVcpus}`;
  }
  if (!Array.isArray(o.modules) || !o.modules.every((m) => typeof m === 'string' && m.startsWith('/'))) {
    return 'modules must be absolute paths';
  }
  if (o.disks !== undefined) {
    if (!Array.isArray(o.disks) || o.disks.length > 16) return 'disks must be a list of at most 16 disks';
    const vdevs = new Set<string>();
    for (const d of o.disks as Record<string, unknown>[]) {
      const p = diskProblem(d);
      if (p !== null) return p;
      if (vdevs.has(d.vdev as string)) return `bad or repeated vdev '${String(d.vdev)}'`;
      vdevs.add(d.vdev as string);
    }
  }
  if (o.vifs !== undefined) {
    const p = vifsProblem(o.vifs);
    if (p !== null) return p;
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
  if (o.onWatchdog !== undefined && !ACTIONS.includes(o.onWatchdog as OnAction)) return `onWatchdog must be one of ${ACTIONS.join(', ')}`;
  return null;
}

/** How many vCPUs a domain built from these settings has (xl's maxvcpus, else vcpus). */
export function vcpuCount(s: Pick<DomainSettings, 'vcpus' | 'maxVcpus'>): number {
  return s.maxVcpus ?? s.vcpus;
}
