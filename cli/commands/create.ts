// create.ts: `pvkvm create CONFIG [-c]` — build a domain from an xl-style config file through
// dom0's toolstack, optionally attaching its console.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, runDirOf, helpRequested, RUN_DIR_HELP, type Command } from '../command.ts';
import { UsageError } from '../usage-error.ts';
import { ControlClient } from '../control-client.ts';
import { parseDomainConfig } from '../config.ts';
import { ConfigError } from '../config-error.ts';
import { describeEnd } from '../exit-codes.ts';
import { streamOutput, attachConsole } from '../console-attach.ts';
import type { DomainSettings } from '../../abi/domain-settings.ts';
import type { CreatedDomain } from '../../abi/control.ts';

/**
 * Read and parse CONFIG into the settings the toolstack takes; config mistakes are one line,
 * ignored keys one warning line each on stderr.
 */
export function settingsFrom(path: string): DomainSettings {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: cannot read config (${(err as NodeJS.ErrnoException).code})`, 1);
  }
  let spec;
  try {
    spec = parseDomainConfig(text, { file: path, baseDir: dirname(file) });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, 1);
    throw err;
  }
  for (const w of spec.warnings) process.stderr.write(`pvkvm: ${w}\n`);
  return {
    name: spec.name, kernel: spec.kernel, cmdline: spec.cmdline, memoryMiB: spec.memoryMiB, vcpus: spec.vcpus,
    ...(spec.maxMemoryMiB !== spec.memoryMiB ? { maxMemoryMiB: spec.maxMemoryMiB } : {}),
    ...(spec.maxVcpus !== spec.vcpus ? { maxVcpus: spec.maxVcpus } : {}),
    ...(spec.uuid !== null ? { uuid: spec.uuid } : {}),
    ...(spec.cpuAffinity !== null ? { cpuAffinity: spec.cpuAffinity } : {}),
    modules: spec.ramdisk !== null ? [spec.ramdisk] : [],
    onPoweroff: spec.onPoweroff, onReboot: spec.onReboot, onCrash: spec.onCrash, onWatchdog: spec.onWatchdog,
    disks: spec.disks.map((d) => ({ target: d.target, vdev: d.vdev, access: d.access })),
    vifs: spec.vifs,
    emulatedDisks: spec.emulatedDisks.map((d) => ({ target: d.target, vdev: d.vdev, access: d.access })),
    console: spec.console,
  };
}

export const create: Command = {
  name: 'create',
  synopsis: 'pvkvm create CONFIG [-c]       create a domain from an xl-style config (-c: attach its console)',
  help: `Usage: pvkvm create CONFIG [-c|--console] [--run-dir DIR]

Create a domain from an xl.cfg(5) file. pvkvm reads: name, type ("pvh"), kernel, ramdisk (the
first boot module), cmdline (or root/extra), memory, maxmem (built with maxmem, balloon target
memory), vcpus (online at boot), maxvcpus (vCPUs the domain has; pvkvm vcpu-set moves between
them), cpus (pins the vCPU threads), uuid (xenstore /vm/UUID), disk, vif, on_poweroff, on_reboot,
on_crash, on_watchdog, and its own emulated_disk and console ("pv" or "uart"). Other xl keys (
cpus_soft, serial, vfb, pool, …) and unknown keys are ignored with one warning each, naming the
line. Errors name the file and line.

  -c, --console   attach the new domain's console (Ctrl-] detaches)
${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('create', argv, { console: { type: 'boolean', short: 'c' } });
    if (helpRequested(p, create)) return 0;
    if (p.positionals.length !== 1) throw new UsageError('create: expected one CONFIG file');
    const settings = settingsFrom(p.positionals[0]!);
    const attach = p.values.console === true;
    const c = await ControlClient.connect(runDirOf(p));
    if (attach) streamOutput(c);
    try {
      const r = await c.request<CreatedDomain>('create', { settings, console: attach });
      if (!attach) {
        process.stdout.write(`created domain ${r.domid} (${r.name})\n`);
        return 0;
      }
      const how = await attachConsole(c);
      if (how !== 'detached') process.stderr.write(`pvkvm: domain ${r.domid} (${r.name}) ${describeEnd(how)}\n`);
      return 0;
    } finally {
      c.close();
    }
  },
};
