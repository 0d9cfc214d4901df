// run-args.ts: parse and validate `pvkvm run` options into a domain configuration.
import { parseArgs } from 'node:util';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { UsageError } from './usage-error.ts';
import { parseDiskSpec, defaultVdev } from './config.ts';
import { GUEST_LIMITS } from '../abi/guest-limits.ts';
import { MAX_VIFS, type VifSetting } from '../abi/domain-settings.ts';
import { parseVifSpec, withMacs } from './vif-spec.ts';

export interface RunOptions {
  readonly domain: { readonly name: string; readonly memoryMiB: number; readonly vcpus: number; readonly cmdline: string };
  /** Kernel and module files, checked here and read by dom0. */
  readonly kernelPath: string;
  readonly modulePaths: readonly string[];
  /** PV disks: xvda, xvdb… in order. */
  readonly disks: readonly { readonly target: string; readonly vdev: string; readonly access: 'rw' | 'ro' }[];
  /** Emulated ATA disk (primary master), for comparing PV against full virtualization. */
  readonly emulatedDisks: readonly { readonly target: string; readonly vdev: string; readonly access: 'rw' | 'ro' }[];
  /** Network interfaces (xl vif specs), each with its MAC filled in. */
  readonly vifs: readonly VifSetting[];
  readonly console: 'pv' | 'uart';
  /** Show the hypervisor console (console_io, port 0xE9) after the PV console is up, too. */
  readonly showConsoleIo: boolean;
  /** Seconds of wall-clock time before the guest is destroyed; 0 = no limit. */
  readonly timeoutS: number;
  readonly quiet: boolean;
}

export const RUN_USAGE = `Usage: pvkvm run KERNEL [options]

Boot a Xen PVH kernel (ELF) on KVM and stream its console to stdout.

Options:
  --memory MiB      guest RAM (default 64, ${GUEST_LIMITS.minRamMiB}..${GUEST_LIMITS.maxRamMiB})
  --vcpus N         virtual CPUs (default 1, at most ${GUEST_LIMITS.maxVcpus})
  --cmdline STR     kernel command line (a value starting with '-' is taken as is)
  --module FILE     boot module (repeatable), passed in hvm_start_info's modlist
  --disk PATH[,ro]  a raw image as a PV disk (repeatable: xvda, xvdb, …); ',ro' makes it read-only
  --disk SPEC       or an xl disk spec, e.g. 'vdev=hda,access=ro,target=disk.img'
  --emulated-disk PATH[,ro]
                    a raw image as an emulated ATA disk (primary master, PIO) instead
  --vif SPEC        a network interface (repeatable: devid 0, 1, …), an xl vif spec such as
                    'bridge=br0,mac=00:16:3e:00:00:01,ip=10.0.0.2,rate=100Mb/s'; '' for the
                    defaults (dom0's internal switch, a stable Xen-OUI MAC)
  --console pv|uart the guest console: the PV console ring (default) or an emulated 16550 UART
  --console-io      keep showing console_io / port 0xE9 output once the PV console is up (by
                    default it is shown until then, and always kept for 'pvkvm dmesg')
  --name NAME       domain name (default: the kernel's file name)
  --timeout S       destroy the guest after S seconds (exit status 124)
  --quiet           do not report how the guest ended on stderr
  -h, --help        show this help`;

/** Largest image or module pvkvm will read (they must fit in guest RAM anyway). */
const MAX_FILE_BYTES = 3 * 1024 * 1024 * 1024;

/** Check that `path` is a readable regular file of a sane size (dom0 reads it). */
function checkInput(path: string, what: string): string {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${path}: ${what} is not a regular file`, 1);
    size = st.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${path}: cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 1);
  }
  if (size > MAX_FILE_BYTES) throw new UsageError(`${path}: ${what} is too large`, 1);
  return path;
}

type DiskOption = { target: string; vdev: string; access: 'rw' | 'ro' };

/**
 * PATH, PATH,ro or PATH,rw → a disk on the `index`-th default vdev; anything else with a comma or
 * an '=' is an xl disk spec (xl-disk-configuration), which may name its own vdev.
 */
function diskOption(spec: string, index: number, defaultName: string): DiskOption {
  const legacy = /^([^,=]+?)(?:,(ro|rw))?$/.exec(spec);
  if (legacy !== null) return { target: checkInput(legacy[1]!, 'disk image'), vdev: defaultName, access: legacy[2] === 'ro' ? 'ro' : 'rw' };
  try {
    const d = parseDiskSpec(spec, index, process.cwd());
    return { target: checkInput(d.target, 'disk image'), vdev: d.vdev, access: d.access };
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(`--disk '${spec}': ${err.message.replace(/^disk \d+: /, '')}`);
    throw err;
  }
}

/**
 * parseArgs refuses `--opt -value` as ambiguous; for options that take a value the next word is
 * the value whatever it looks like, as in xl and most CLIs, so join it as `--opt=-value`.
 */
function joinValues(argv: readonly string[], valued: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [...out, ...argv.slice(i)];
    if (valued.has(a) && i + 1 < argv.length) {
      out.push(`${a}=${argv[i + 1]}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function uniqueVdevs(disks: DiskOption[]): DiskOption[] {
  const seen = new Set<string>();
  for (const d of disks) {
    if (seen.has(d.vdev)) throw new UsageError(`--disk: vdev ${d.vdev} given twice`);
    seen.add(d.vdev);
  }
  return disks;
}

/** `--vif SPEC`s → vifs with their MACs (stable per domain name and devid). */
function vifOptions(name: string, specs: readonly string[]): VifSetting[] {
  if (specs.length > MAX_VIFS) throw new UsageError(`at most ${MAX_VIFS} --vif options`);
  const parsed = specs.map((spec) => parseVifSpec(spec, (msg) => { throw new UsageError(`--vif '${spec.slice(0, 60)}': ${msg}`); }));
  return withMacs(name, parsed, (i, msg) => { throw new UsageError(`--vif '${specs[i]!.slice(0, 60)}': ${msg}`); });
}

function consoleOption(raw: string | undefined): 'pv' | 'uart' {
  if (raw === undefined || raw === 'pv') return 'pv';
  if (raw === 'uart') return 'uart';
  throw new UsageError(`--console must be pv or uart (got '${raw}')`);
}

function intOption(raw: string | undefined, name: string, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number (got '${raw}')`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max} (got ${n})`);
  return n;
}

export function parseRunArgs(argv: readonly string[]): RunOptions | 'help' {
  const options = {
    memory: { type: 'string' },
    vcpus: { type: 'string' },
    cmdline: { type: 'string' },
    module: { type: 'string', multiple: true },
    disk: { type: 'string', multiple: true },
    'emulated-disk': { type: 'string', multiple: true },
    vif: { type: 'string', multiple: true },
    console: { type: 'string' },
    'console-io': { type: 'boolean' },
    name: { type: 'string' },
    timeout: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  const valued = new Set(Object.entries(options).filter(([, o]) => o.type === 'string').map(([k]) => `--${k}`));
  let parsed;
  try {
    parsed = parseArgs({ args: joinValues(argv, valued), allowPositionals: true, strict: true, options });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError('run: missing KERNEL (try pvkvm run --help)');
  if (positionals.length > 1) throw new UsageError(`run: unexpected argument '${positionals[1]}'`);
  const kernelPath = positionals[0]!;
  const memoryMiB = intOption(values.memory, 'memory', 64, GUEST_LIMITS.minRamMiB, GUEST_LIMITS.maxRamMiB);
  const vcpus = intOption(values.vcpus, 'vcpus', 1, 1, GUEST_LIMITS.maxVcpus);
  const timeoutS = intOption(values.timeout, 'timeout', 0, 0, 365 * 24 * 3600);
  const name = values.name ?? basename(kernelPath).replace(/\.elf$/, '');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw new UsageError(`--name must be 1-64 characters of letters, digits, '.', '_' or '-' (got '${name}')`);
  }
  return {
    domain: { name, memoryMiB, vcpus, cmdline: values.cmdline ?? '' },
    kernelPath: checkInput(kernelPath, 'kernel'),
    modulePaths: (values.module ?? []).map((p) => checkInput(p, 'module')),
    disks: uniqueVdevs((values.disk ?? []).map((spec, i) => {
      if (i >= 16) throw new UsageError('at most 16 --disk options');
      return diskOption(spec, i, defaultVdev(i));
    })),
    emulatedDisks: (values['emulated-disk'] ?? []).map((spec, i) => {
      if (i >= 1) throw new UsageError('at most one --emulated-disk (the primary master)');
      return diskOption(spec, i, 'hda');
    }),
    vifs: vifOptions(name, values.vif ?? []),
    console: consoleOption(values.console),
    showConsoleIo: values['console-io'] ?? false,
    timeoutS,
    quiet: values.quiet ?? false,
  };
}
