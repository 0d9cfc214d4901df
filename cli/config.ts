// config.ts: parse an xl.cfg(5)-style domain config file (the subset pvkvm supports) into a spec.
//
// Three stages, each reporting the line it is looking at: a lexer (strings, numbers, brackets),
// a parser for `key = value` settings, and per-key interpretation with xl's defaults. Every
// problem is a ConfigError; any other exception escaping from here is a bug (the tests fuzz it).
import { resolve } from 'node:path';
import { ConfigError, type ConfigErrorCode } from './config-error.ts';
import { minGuestRamBytes, maxGuestRamBytes } from '../abi/guest-limits.ts';
import { parseVifSpec, withMacs } from './vif-spec.ts';
import { MAX_VIFS, type VifSetting } from '../abi/domain-settings.ts';
import { KNOWN_KEYS, IGNORED_KEYS, type Key } from './xl-keys.ts';
import { parseCpuList } from './cpu-list.ts';

export interface DiskSpec { target: string; vdev: string; access: 'rw' | 'ro'; format: 'raw' }
export type OnAction = 'destroy' | 'restart' | 'preserve' | 'rename-restart' | 'coredump-destroy' | 'coredump-restart';
export interface DomainConfigSpec {
  name: string;
  /** Absolute: resolved against the config file's directory. */
  kernel: string;
  cmdline: string;
  /** xl's `memory`: the balloon target the guest starts with. */
  memoryMiB: number;
  /** xl's `maxmem` (default: memory): the RAM the domain is built with and the balloon's ceiling. */
  maxMemoryMiB: number;
  /** xl's `vcpus`: how many vCPUs are online at boot (cpu/N/availability = online). */
  vcpus: number;
  /** xl's `maxvcpus` (default: vcpus): how many vCPUs the domain has; `pvkvm vcpu-set` moves within it. */
  maxVcpus: number;
  /** xl's `ramdisk`, absolute: passed as the first boot module (Linux takes it as its initrd). */
  ramdisk: string | null;
  /**
   * xl's `cpus`: hard affinity of the vCPU threads, host CPU numbers. One entry: every vCPU;
   * several (xl's list form): vCPU i gets entry i, later vCPUs are not pinned. Null: not pinned.
   */
  cpuAffinity: number[][] | null;
  /** xl's `uuid`, lower case; null: the hypervisor's own. */
  uuid: string | null;
  disks: DiskSpec[];
  /** Every vif has its MAC: given, or a stable Xen-OUI one (cli/vif-spec.ts). */
  vifs: VifSetting[];
  onPoweroff: OnAction;
  onReboot: OnAction;
  onCrash: OnAction;
  onWatchdog: OnAction;
  /** Emulated ATA disks (pvkvm's `emulated_disk`, same spec syntax as `disk`). */
  emulatedDisks: DiskSpec[];
  /** pvkvm's `console = "pv" | "uart"`. */
  console: 'pv' | 'uart';
  /**
   * One line per key that was accepted but ignored ("FILE:LINE: warning: …"), as xl warns; the
   * caller prints them. Each key is warned about once.
   */
  warnings: string[];
}

export interface ParseOptions {
  /** Name used in error messages. */
  readonly file: string;
  /** Relative kernel and disk paths are resolved against this (normally the file's directory). */
  readonly baseDir: string;
}

const MIB = 1024 * 1024;
export const MEMORY_MIB_DEFAULT = 128;
export const VCPUS_MAX = 32;
const ON_ACTIONS: readonly OnAction[] = [
  'destroy', 'restart', 'preserve', 'rename-restart', 'coredump-destroy', 'coredump-restart',
];

// ---- values and errors ----------------------------------------------------------------------

type Scalar = { kind: 'string'; value: string; line: number } | { kind: 'number'; value: number; line: number };
type Value = Scalar | { kind: 'list'; items: Scalar[]; line: number };
type Fail = (code: ConfigErrorCode, line: number | null, msg: string) => never;

/** Show user text inside a one-line message: quoted, escaped, and cut short. */
function show(s: string): string {
  const cut = s.length > 60 ? `${s.slice(0, 60)}…` : s;
  return `'${JSON.stringify(cut).slice(1, -1)}'`;
}

function describe(v: Value): string {
  return v.kind === 'list' ? 'a list' : v.kind === 'number' ? 'a number' : 'a string';
}

// ---- lexer ----------------------------------------------------------------------------------

type Tok =
  | { kind: 'ident'; text: string; line: number }
  | { kind: 'string' | 'number'; value: Scalar; line: number }
  | { kind: '[' | ']' | ',' | '=' | ';' | 'nl' | 'eof'; line: number };

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r' };

function lex(text: string, fail: Fail): Tok[] {
  const toks: Tok[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      toks.push({ kind: 'nl', line });
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '[' || c === ']' || c === ',' || c === '=' || c === ';') {
      toks.push({ kind: c, line });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      toks.push({ kind: 'ident', text: text.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_.]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      const value = /^[0-9]+$/.test(word) ? Number(word) : /^0x[0-9a-f]+$/i.test(word) ? Number(word) : NaN;
      if (!Number.isSafeInteger(value)) fail('SYNTAX', line, `bad number ${show(word)}`);
      toks.push({ kind: 'number', value: { kind: 'number', value, line }, line });
      i = j;
    } else if (c === '"' || c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length || text[j] === '\n') fail('SYNTAX', line, 'unterminated string');
        const d = text[j]!;
        if (d === c) break;
        if (d === '\\' && j + 1 < text.length && text[j + 1] !== '\n') {
          const e = text[j + 1]!;
          value += ESCAPES[e] ?? e;
          j += 2;
          continue;
        }
        value += d;
        j++;
      }
      // A NUL would truncate the string wherever it ends up as C (command line, paths).
      if (value.includes('\0')) fail('BAD_VALUE', line, 'strings must not contain NUL characters');
      toks.push({ kind: 'string', value: { kind: 'string', value, line }, line });
      i = j + 1;
    } else {
      fail('SYNTAX', line, `unexpected character ${show(c)}`);
    }
  }
  toks.push({ kind: 'eof', line });
  return toks;
}

// ---- parser ---------------------------------------------------------------------------------

interface Setting { key: Key; value: Value; line: number }

function tokName(t: Tok): string {
  switch (t.kind) {
    case 'ident': return `'${t.text}'`;
    case 'string': return 'a string';
    case 'number': return 'a number';
    case 'nl': return 'end of line';
    case 'eof': return 'end of file';
    default: return `'${t.kind}'`;
  }
}

/**
 * `key = value` lines into settings. A key pvkvm does not read is parsed like any other (its
 * syntax must be right), then dropped with one warning: why it does not apply, or that it is
 * unknown — xl, too, ignores keys it does not know.
 */
function parseSettings(toks: readonly Tok[], fail: Fail, warn: (line: number, msg: string) => void): Map<Key, Setting> {
  const settings = new Map<Key, Setting>();
  const ignored = new Map<string, number>();
  let p = 0;
  const skipNewlines = (): void => {
    while (toks[p]!.kind === 'nl') p++;
  };
  const scalar = (): Scalar => {
    const t = toks[p++]!;
    if (t.kind === 'string' || t.kind === 'number') return t.value;
    if (t.kind === '[') fail('BAD_TYPE', t.line, 'lists cannot be nested');
    if (t.kind === 'ident') fail('SYNTAX', t.line, `${tokName(t)} must be quoted`);
    return fail('SYNTAX', t.line, `expected a value, got ${tokName(t)}`);
  };
  const value = (): Value => {
    const open = toks[p]!;
    if (open.kind !== '[') return scalar();
    p++;
    const items: Scalar[] = [];
    for (;;) {
      skipNewlines();
      if (toks[p]!.kind === ']') break; // empty list, or a trailing comma
      if (toks[p]!.kind === 'eof') fail('SYNTAX', open.line, "list is missing its closing ']'");
      items.push(scalar());
      skipNewlines();
      const sep = toks[p]!;
      if (sep.kind === ']') break;
      if (sep.kind === 'eof') fail('SYNTAX', open.line, "list is missing its closing ']'");
      if (sep.kind !== ',') fail('SYNTAX', sep.line, `expected ',' or ']' in list, got ${tokName(sep)}`);
      p++;
    }
    p++;
    return { kind: 'list', items, line: open.line };
  };

  for (;;) {
    const t = toks[p++]!;
    if (t.kind === 'nl' || t.kind === ';') continue;
    if (t.kind === 'eof') return settings;
    if (t.kind !== 'ident') fail('SYNTAX', t.line, `expected a key, got ${tokName(t)}`);
    if (toks[p]!.kind !== '=') fail('SYNTAX', t.line, `expected '=' after '${t.text}'`);
    p++;
    const v = value();
    const end = toks[p]!;
    if (end.kind !== 'nl' && end.kind !== ';' && end.kind !== 'eof') {
      fail('SYNTAX', end.line, `unexpected ${tokName(end)} after the value of '${t.text}'`);
    }
    if (!(KNOWN_KEYS as readonly string[]).includes(t.text)) {
      const prevIgnored = ignored.get(t.text);
      if (prevIgnored !== undefined) fail('DUPLICATE_KEY', t.line, `'${t.text}' is already set on line ${prevIgnored}`);
      ignored.set(t.text, t.line);
      const why = Object.hasOwn(IGNORED_KEYS, t.text) ? IGNORED_KEYS[t.text] : undefined;
      warn(t.line, why !== undefined ? `'${t.text}' ignored: ${why}` : `unknown key '${t.text}' ignored`);
      continue;
    }
    const key = t.text as Key;
    const prev = settings.get(key);
    if (prev) fail('DUPLICATE_KEY', t.line, `'${key}' is already set on line ${prev.line}`);
    settings.set(key, { key, value: v, line: t.line });
  }
}

// ---- disk and vif specs -----------------------------------------------------------------------

/** xm-era target prefixes xl still accepts; those naming a raw file or device are stripped. */
const RAW_PREFIX = /^(?:phy|file|aio|tap:aio|raw|tap:raw):/;
const OTHER_PREFIX = /^(?:tap:)?(qcow2?|vhd|qed):/;
const VDEV = /^(?:xvd[a-z]{1,3}|sd[a-z]{1,3}|hd[a-z])$/;

/** The n-th default disk name (0 → xvda, 25 → xvdz, 26 → xvdaa), as Linux names disks. */
export function defaultVdev(n: number): string {
  let s = '';
  for (let i = n + 1; i > 0; i = Math.floor((i - 1) / 26)) s = String.fromCharCode(97 + ((i - 1) % 26)) + s;
  return `xvd${s}`;
}

/** Split at commas, except that a `target=` parameter swallows the rest (xl-disk-configuration). */
function splitDiskSpec(spec: string): { params: string[]; target: string | null } {
  const params: string[] = [];
  let rest = spec;
  for (;;) {
    if (/^\s*target=/.test(rest)) return { params, target: rest.replace(/^\s*target=/, '') };
    const comma = rest.indexOf(',');
    if (comma < 0) {
      params.push(rest.trim());
      return { params, target: null };
    }
    params.push(rest.slice(0, comma).trim());
    rest = rest.slice(comma + 1);
  }
}

const SLOTS = ['target', 'format', 'vdev', 'access'] as const;
type Slot = (typeof SLOTS)[number];
/** xl's bare-word flags; none of them means anything to pvkvm yet. */
const DISK_FLAGS = ['cdrom', 'discard', 'no-discard', 'direct-io-safe', 'trusted', 'untrusted', 'colo'];

/**
 * xl-disk-configuration(5): a bare parameter fills the first slot (target, format, vdev, access)
 * not yet given; `key=value` fills a slot by name; an empty value means "the default"; a
 * deprecated target prefix such as `phy:` also gives the format, which is how the xm form
 * 'phy:/dev/vg/x,xvda,w' lands its vdev and access in the right slots.
 */
function parseDisk(spec: string, index: number, baseDir: string, bad: (msg: string) => never): DiskSpec {
  const { params, target: namedTarget } = splitDiskSpec(spec);
  const given: Record<Slot, string | null> = { target: null, format: null, vdev: null, access: null };
  const fill = (slot: Slot, v: string): void => {
    if (given[slot] !== null) bad(`disk ${index}: ${slot} given twice`);
    given[slot] = v;
    if (slot !== 'target') return;
    const other = OTHER_PREFIX.exec(v);
    if (other) bad(`disk ${index}: format ${show(other[1]!)} is not supported (only raw)`);
    if (RAW_PREFIX.test(v)) {
      given.target = v.replace(RAW_PREFIX, '');
      given.format ??= 'raw';
    }
  };
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq >= 0) {
      const k = p.slice(0, eq).trim();
      const v = p.slice(eq + 1).trim();
      if ((SLOTS as readonly string[]).includes(k)) fill(k as Slot, v);
      else if (k === 'devtype') {
        if (v !== 'disk') bad(`disk ${index}: devtype ${show(v)} is not supported (only disk)`);
      } else bad(`disk ${index}: parameter ${show(k)} is not supported`);
    } else if (DISK_FLAGS.includes(p)) {
      bad(`disk ${index}: ${show(p)} is not supported`);
    } else {
      const slot = SLOTS.find((s) => given[s] === null);
      if (slot === undefined) bad(`disk ${index}: unexpected parameter ${show(p)}`);
      fill(slot, p);
    }
  }
  // `target=` comes last and may follow an empty positional target, but not a real one.
  if (namedTarget !== null) {
    if (given.target) bad(`disk ${index}: target given twice`);
    given.target = namedTarget;
  }

  const target = given.target;
  if (!target) bad(`disk ${index}: no target (the image file or device)`);
  const format = given.format || 'raw';
  // A bare word lands in the next free field by position, so `img,foo` reads foo as the format:
  // name the field and the order, which is what the user needs to fix it.
  if (format !== 'raw') {
    bad(`disk ${index}: format ${show(format)} is not supported (only raw; bare fields are target,format,vdev,access in that order)`);
  }

  let name = given.vdev || defaultVdev(index);
  const colon = name.indexOf(':');
  if (colon >= 0) {
    const devtype = name.slice(colon + 1);
    if (devtype !== 'disk') bad(`disk ${index}: devtype ${show(devtype)} is not supported (only disk)`);
    name = name.slice(0, colon);
  }
  if (!VDEV.test(name)) bad(`disk ${index}: bad vdev ${show(name)} (expected e.g. xvda, sdb or hdc)`);

  const acc = given.access || 'rw';
  if (!['rw', 'w', 'ro', 'r'].includes(acc)) bad(`disk ${index}: access must be rw or ro (got ${show(acc)})`);
  return { target: resolve(baseDir, target), vdev: name, access: acc === 'r' || acc === 'ro' ? 'ro' : 'rw', format: 'raw' };
}

/**
 * One xl disk spec given outside a config file (`pvkvm run --disk`): the same rules as a `disk`
 * entry; a mistake is a UsageError-style one-line message.
 */
export function parseDiskSpec(spec: string, index: number, baseDir: string): DiskSpec {
  return parseDisk(spec, index, baseDir, (msg) => { throw new RangeError(msg); });
}

// ---- interpretation ---------------------------------------------------------------------------

export function parseDomainConfig(text: string, opts: ParseOptions): DomainConfigSpec {
  // Annotated so that TypeScript narrows after a call (a `never` call must have a declared type).
  const fail: Fail = (code, line, msg) => {
    throw new ConfigError(code, opts.file, line, msg);
  };
  const found: Array<{ line: number; msg: string }> = [];
  const warn = (line: number, msg: string): void => { found.push({ line, msg }); };
  const settings = parseSettings(lex(text, fail), fail, warn);

  const get = (key: Key): Setting | undefined => settings.get(key);
  const str = (key: Key): { value: string; line: number } | undefined => {
    const s = get(key);
    if (s === undefined) return undefined;
    if (s.value.kind !== 'string') fail('BAD_TYPE', s.line, `'${key}' must be a string, not ${describe(s.value)}`);
    return { value: s.value.value, line: s.line };
  };
  const int = (key: Key, def: number, min: number, max: number): number => {
    const s = get(key);
    if (s === undefined) return def;
    if (s.value.kind !== 'number') fail('BAD_TYPE', s.line, `'${key}' must be a number, not ${describe(s.value)}`);
    const n = s.value.value;
    if (n < min || n > max) fail('BAD_VALUE', s.line, `'${key}' must be between ${min} and ${max} (got ${n})`);
    return n;
  };
  const strings = (key: Key): Array<{ value: string; line: number }> => {
    const s = get(key);
    if (s === undefined) return [];
    if (s.value.kind !== 'list') fail('BAD_TYPE', s.line, `'${key}' must be a list, not ${describe(s.value)}`);
    return s.value.items.map((item) => {
      if (item.kind !== 'string') fail('BAD_TYPE', item.line, `'${key}' entries must be strings, not ${describe(item)}`);
      return { value: item.value, line: item.line };
    });
  };
  const action = (key: Key, def: OnAction): OnAction => {
    const s = str(key);
    if (s === undefined) return def;
    if (!(ON_ACTIONS as readonly string[]).includes(s.value)) {
      fail('BAD_VALUE', s.line, `'${key}' must be one of ${ON_ACTIONS.join(', ')} (got ${show(s.value)})`);
    }
    return s.value as OnAction;
  };

  const name = str('name');
  if (name === undefined) fail('MISSING_KEY', null, "missing required key 'name'");
  // Names become file names (console logs) and CLI arguments next to domain ids.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name.value)) {
    fail('BAD_VALUE', name.line, `'name' must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit (got ${show(name.value)})`);
  }
  if (/^[0-9]+$/.test(name.value)) fail('BAD_VALUE', name.line, `'name' must not be all digits (it would read as a domain id)`);

  // pvkvm boots every guest as PVH. A PV config often names a kernel that also has a PVH entry
  // (Linux does), so 'pv' is a warning; 'hvm' expects firmware and emulated hardware, so it fails.
  const type = str('type');
  if (type !== undefined && type.value !== 'pvh' && type.value !== 'pv') {
    fail('BAD_VALUE', type.line, `'type' must be 'pvh' (got ${show(type.value)}; pvkvm runs PVH guests only)`);
  }
  if (type?.value === 'pv') warn(type.line, "type 'pv': pvkvm boots the kernel as PVH (it needs a PVH entry note)");
  const builder = str('builder');
  if (builder !== undefined) {
    if (builder.value === 'hvm') fail('BAD_VALUE', builder.line, "'builder' hvm is not supported (pvkvm runs PVH guests only)");
    if (builder.value !== 'generic') fail('BAD_VALUE', builder.line, `'builder' must be 'generic' or 'hvm' (got ${show(builder.value)})`);
    // xl's own rule: 'type' wins over the deprecated 'builder'.
    if (type === undefined) warn(builder.line, "'builder' is deprecated; pvkvm boots the kernel as PVH");
  }

  const kernel = str('kernel');
  if (kernel === undefined) fail('MISSING_KEY', null, "missing required key 'kernel'");
  if (kernel.value === '') fail('BAD_VALUE', kernel.line, "'kernel' is empty");

  // xl: `cmdline`, or else `root=ROOT EXTRA` assembled from the legacy keys.
  const cmdline = str('cmdline');
  const root = str('root');
  const extra = str('extra');
  if (cmdline !== undefined && (root !== undefined || extra !== undefined)) {
    fail('BAD_VALUE', cmdline.line, `'cmdline' cannot be combined with 'root' or 'extra' (xl would ignore them)`);
  }
  const legacy = [root && `root=${root.value}`, extra?.value].filter((s) => s !== undefined && s !== '');

  const vdevs = new Map<string, number>();
  const disks: DiskSpec[] = strings('disk').map((d, i) => {
    const disk = parseDisk(d.value, i, opts.baseDir, (msg) => fail('BAD_VALUE', d.line, msg));
    const prev = vdevs.get(disk.vdev);
    if (prev !== undefined) fail('BAD_VALUE', d.line, `disk ${i}: vdev ${disk.vdev} is already used by disk ${prev}`);
    vdevs.set(disk.vdev, i);
    return disk;
  });

  const vifEntries = strings('vif');
  if (vifEntries.length > MAX_VIFS) fail('BAD_VALUE', get('vif')!.line, `at most ${MAX_VIFS} vifs`);
  const vifSpecs = vifEntries.map((v, i) => parseVifSpec(v.value, (msg) => fail('BAD_VALUE', v.line, `vif ${i}: ${msg}`)));
  const vifs = withMacs(name.value, vifSpecs, (i, msg) => fail('BAD_VALUE', vifEntries[i]!.line, `vif ${i}: ${msg}`));

  const emulatedDisks: DiskSpec[] = strings('emulated_disk').map((d, i) => {
    if (i > 0) fail('BAD_VALUE', d.line, 'only one emulated disk (the primary master) is supported');
    return parseDisk(d.value, i, opts.baseDir, (msg) => fail('BAD_VALUE', d.line, msg));
  });
  const consoleKey = str('console');
  if (consoleKey !== undefined && consoleKey.value !== 'pv' && consoleKey.value !== 'uart') {
    fail('BAD_VALUE', consoleKey.line, `'console' must be "pv" or "uart"`);
  }

  const [minMiB, maxMiB] = [minGuestRamBytes / MIB, maxGuestRamBytes / MIB];
  const memoryMiB = int('memory', MEMORY_MIB_DEFAULT, minMiB, maxMiB);
  const maxMemoryMiB = int('maxmem', memoryMiB, minMiB, maxMiB);
  // libxl's rule: static-max (maxmem) is at least the start-of-day target (memory).
  if (maxMemoryMiB < memoryMiB) fail('BAD_VALUE', get('maxmem')!.line, `'maxmem' (${maxMemoryMiB}) must be at least 'memory' (${memoryMiB})`);

  const vcpus = int('vcpus', 1, 1, VCPUS_MAX);
  const maxvcpus = int('maxvcpus', vcpus, 1, VCPUS_MAX);
  if (maxvcpus < vcpus) fail('BAD_VALUE', get('maxvcpus')!.line, `'maxvcpus' (${maxvcpus}) must be at least 'vcpus' (${vcpus})`);

  const cpus = get('cpus');
  const cpuAffinity = cpus === undefined ? null : cpuList('cpus', cpus, fail);
  if (cpuAffinity !== null && cpuAffinity.length > maxvcpus) fail('BAD_VALUE', cpus!.line, `'cpus' has ${cpuAffinity.length} entries for ${maxvcpus} vCPU(s)`);
  const soft = get('cpus_soft');
  if (soft !== undefined) {
    cpuList('cpus_soft', soft, fail);
    warn(soft.line, "'cpus_soft' ignored: Linux has no soft affinity for threads (use 'cpus' to pin vCPUs)");
  }

  const uuid = str('uuid');
  if (uuid !== undefined && !UUID.test(uuid.value)) {
    fail('BAD_VALUE', uuid.line, `'uuid' must be xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hex (got ${show(uuid.value)})`);
  }
  const ramdisk = str('ramdisk');
  if (ramdisk?.value === '') fail('BAD_VALUE', ramdisk.line, "'ramdisk' is empty");

  return {
    name: name.value,
    kernel: resolve(opts.baseDir, kernel.value),
    cmdline: cmdline?.value ?? legacy.join(' '),
    memoryMiB,
    maxMemoryMiB,
    vcpus,
    maxVcpus: maxvcpus,
    ramdisk: ramdisk === undefined ? null : resolve(opts.baseDir, ramdisk.value),
    cpuAffinity,
    uuid: uuid === undefined ? null : uuid.value.toLowerCase(),
    disks,
    vifs,
    onPoweroff: action('on_poweroff', 'destroy'),
    onReboot: action('on_reboot', 'restart'),
    onCrash: action('on_crash', 'destroy'),
    onWatchdog: action('on_watchdog', 'destroy'),
    emulatedDisks,
    console: consoleKey?.value === 'uart' ? 'uart' : 'pv',
    // In file order, whichever stage noticed them.
    warnings: found.sort((a, b) => a.line - b.line).map((w) => `${opts.file}:${w.line}: warning: ${w.msg}`),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** xl's `cpus`: "0-3,^1" for every vCPU, or a list with one such string (or number) per vCPU. */
function cpuList(key: string, s: Setting, fail: Fail): number[][] {
  const items: Scalar[] = s.value.kind === 'list' ? s.value.items : [s.value];
  if (items.length === 0) fail('BAD_VALUE', s.line, `'${key}' is an empty list`);
  return items.map((item) => {
    const text = item.kind === 'number' ? String(item.value) : item.value;
    try {
      return parseCpuList(text, { strict: false });
    } catch (err) {
      return fail('BAD_VALUE', item.line, `'${key}': ${(err as Error).message}`);
    }
  });
}
