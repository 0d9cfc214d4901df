// domain-commands.ts: the xl-like commands on existing domains — list, info, console, pause,
// unpause, shutdown, destroy — each one request to dom0's toolstack.
import { parse, runDirOf, helpRequested, oneDomain, withClient, RUN_DIR_HELP, type Command } from '../command.ts';
import { UsageError } from '../usage-error.ts';
import { ControlClient } from '../control-client.ts';
import { describeEnd } from '../exit-codes.ts';
import { streamOutput, attachConsole } from '../console-attach.ts';
import type { DomainEndReport } from '../../abi/control.ts';

/** A text field from dom0, shown in a table: a string, cut short, without control characters. */
export function text(v: unknown, max = 24): string {
  return (typeof v === 'string' || typeof v === 'number' ? String(v) : '-').replace(/[\x00-\x1f\x7f]/g, '?').slice(0, max);
}

/** A number from dom0, or NaN shown as '-'. */
export function num(v: unknown, digits = 0): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-';
}

/** Domains named on the command line (names or ids), or all of them. */
function filterDomains(domains: readonly Record<string, unknown>[], wanted: readonly string[]): Record<string, unknown>[] {
  if (wanted.length === 0) return [...domains];
  const missing = wanted.find((w) => !domains.some((d) => d.name === w || String(d.domid) === w));
  if (missing !== undefined) throw new UsageError(`list: no domain '${missing.slice(0, 64)}'`, 1);
  return domains.filter((d) => wanted.includes(String(d.name)) || wanted.includes(String(d.domid)));
}

export const list: Command = {
  name: 'list',
  synopsis: 'pvkvm list [-l|--json] [DOMAIN...]  list domains (Domain-0 first), as xl list',
  help: `Usage: pvkvm list [-l|--long] [--json] [DOMAIN...] [--run-dir DIR]

One line per domain, as xl list: Name, ID, Mem (the balloon target, MiB), VCPUs (how many are
up: a PVH guest brings its secondary vCPUs up itself, and takes them down for vcpu-set), State
and Time(s), the CPU time its vCPU threads have used (for Domain-0: dom0's process). DOMAIN
names or ids limit the list to those domains (an unknown one is an error). In the JSON, vcpus is
how many vcpu-set made available, max_vcpus how many exist and online_vcpus which are up.

  -l, --long      print each domain's full record as JSON (settings, uuid, exits, vifs…)
  --json          print the list as JSON: one object per guest (Domain-0 only when named),
                  with cpu_time_s and uptime_s
${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('list', argv, { json: { type: 'boolean' }, long: { type: 'boolean', short: 'l' } });
    if (helpRequested(p, list)) return 0;
    const wanted = p.positionals;
    // --json keeps its old shape (guests only) unless Domain-0 is asked for by name or id.
    const withDom0 = !p.values.json || wanted.includes('0') || wanted.includes('Domain-0');
    const all = await withClient(runDirOf(p), (c) => c.request<unknown>('list', { dom0: withDom0 }));
    const domains = filterDomains(Array.isArray(all) ? all.filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null) : [], wanted);
    if (p.values.json) {
      process.stdout.write(`${JSON.stringify(domains)}\n`);
      return 0;
    }
    if (p.values.long) {
      const long = await withClient(runDirOf(p), (c) => Promise.all(domains.map((d) =>
        (d.domid === 0 ? Promise.resolve(d) : c.request('info', { domain: String(d.domid) })))));
      process.stdout.write(`${JSON.stringify(long, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${'Name'.padEnd(40)}${'ID'.padStart(5)}${'Mem'.padStart(6)}${'VCPUs'.padStart(6)}\t${'State'.padEnd(9)}${'Time(s)'.padStart(9)}\n`);
    for (const d of domains) {
      process.stdout.write(`${text(d.name, 39).padEnd(40)}${num(d.domid).padStart(5)}${num(d.memory_mib).padStart(6)}` +
        `${num(Array.isArray(d.online_vcpus) ? d.online_vcpus.length : d.vcpus).padStart(6)}\t${text(d.state, 9).padEnd(9)}${num(d.cpu_time_s, 1).padStart(9)}\n`);
    }
    return 0;
  },
};

export const info: Command = {
  name: 'info',
  synopsis: 'pvkvm info DOMAIN              show one domain (state, memory, vCPUs, uptime, exits, vifs)',
  help: `Usage: pvkvm info DOMAIN [--run-dir DIR]

Print one domain as JSON, including its live exit counts by kind, its vCPUs (vcpus: how many
vcpu-set made available; max_vcpus: how many it has; online_vcpus: those that are up) and its
vifs with their traffic counters (tx: sent by the guest). DOMAIN is a name or an id.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('info', argv, {});
    if (helpRequested(p, info)) return 0;
    const domain = oneDomain('info', p.positionals);
    const result = await withClient(runDirOf(p), (c) => c.request('info', { domain }));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  },
};

export const consoleCmd: Command = {
  name: 'console',
  synopsis: 'pvkvm console DOMAIN           attach to a domain\'s console (Ctrl-] detaches)',
  help: `Usage: pvkvm console DOMAIN [--run-dir DIR]

Attach the terminal to a domain's console: its backlog first, then live output; keystrokes go to
the guest. Ctrl-] detaches and leaves the domain running.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('console', argv, {});
    if (helpRequested(p, consoleCmd)) return 0;
    const domain = oneDomain('console', p.positionals);
    const c = await ControlClient.connect(runDirOf(p));
    streamOutput(c);
    try {
      await c.request('console', { domain });
      const how = await attachConsole(c);
      if (how !== 'detached') process.stderr.write(`\npvkvm: domain ${domain} ${describeEnd(how)}\n`);
      return 0;
    } finally {
      c.close();
    }
  },
};

/** pause, unpause and destroy: one request naming one domain. */
function simple(name: 'pause' | 'unpause' | 'destroy', synopsis: string, what: string): Command {
  const cmd: Command = {
    name,
    synopsis,
    help: `Usage: pvkvm ${name} DOMAIN [--run-dir DIR]

${what}

${RUN_DIR_HELP}`,
    async run(argv) {
      const p = parse(name, argv, {});
      if (helpRequested(p, cmd)) return 0;
      const domain = oneDomain(name, p.positionals);
      await withClient(runDirOf(p), (c) => c.request(name, { domain }));
      return 0;
    },
  };
  return cmd;
}

export const pause = simple('pause', 'pvkvm pause|unpause DOMAIN     stop or resume a domain\'s vCPUs', 'Stop a domain\'s vCPUs; it keeps its memory and devices. Pauses nest, as Xen\'s pause count:\na domain paused twice runs again after the second unpause.');
export const unpause = simple('unpause', '', 'Undo one pause; the domain runs again when every pause has been undone (an error if it is\nnot paused).');
export const destroy = simple('destroy', 'pvkvm destroy DOMAIN           stop a domain at once', 'Stop a domain at once and release everything it holds.');

export const shutdown: Command = {
  name: 'shutdown',
  synopsis: `pvkvm shutdown DOMAIN [--reboot] [--timeout S] [--no-wait]
                                 ask the guest to shut down (control/shutdown), destroy after S s`,
  help: `Usage: pvkvm shutdown DOMAIN [--reboot] [--timeout S] [--no-wait] [--run-dir DIR]

Ask the guest to shut down by writing control/shutdown in xenstore; a guest that has not gone
after S seconds (default 30) is destroyed.

  --reboot        ask for a reboot instead of a power-off
  --timeout S     seconds before the domain is destroyed
  --no-wait       return once the request is written (dom0 still destroys the domain after S s)
${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('shutdown', argv, { reboot: { type: 'boolean' }, timeout: { type: 'string' }, 'no-wait': { type: 'boolean' } });
    if (helpRequested(p, shutdown)) return 0;
    const domain = oneDomain('shutdown', p.positionals);
    const t = p.values.timeout === undefined ? 30 : Number(p.values.timeout as string);
    if (!Number.isInteger(t) || t <= 0) throw new UsageError('--timeout must be a positive whole number of seconds');
    const mode = p.values.reboot ? 'reboot' : 'poweroff';
    if (p.values['no-wait']) {
      // dom0 answers once control/shutdown is written, and destroys the domain after S s itself.
      await withClient(runDirOf(p), (c) => c.request('shutdown', { domain, mode, timeoutMs: t * 1000, wait: false }));
      process.stdout.write(`domain ${domain}: ${mode} requested\n`);
      return 0;
    }
    const end = await withClient(runDirOf(p), (c) => c.request<DomainEndReport>('shutdown', { domain, mode, timeoutMs: t * 1000 }));
    process.stdout.write(`domain ${domain} ${describeEnd(end)}\n`);
    return 0;
  },
};

export const dmesg: Command = {
  name: 'dmesg',
  synopsis: 'pvkvm dmesg [--clear]          print the hypervisor console (every guest\'s console_io output)',
  help: `Usage: pvkvm dmesg [--clear] [--run-dir DIR]

Print the hypervisor console, as Xen's 'xl dmesg' does: what guests wrote with the console_io
hypercall or to the debug port 0xE9, each line prefixed with (dDOMID). A guest's own console
(PV ring or UART) is 'pvkvm console'.

  --clear         empty the log after printing it
${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('dmesg', argv, { clear: { type: 'boolean' } });
    if (helpRequested(p, dmesg)) return 0;
    const r = await withClient(runDirOf(p), (c) => c.request<{ text: string }>('dmesg', { clear: p.values.clear === true }));
    process.stdout.write(r.text);
    return 0;
  },
};

export const memSet: Command = {
  name: 'mem-set',
  synopsis: 'pvkvm mem-set DOMAIN MiB        set a domain\'s balloon target (memory/target)',
  help: `Usage: pvkvm mem-set DOMAIN MiB [--run-dir DIR]

Set the memory a domain should use, as xl mem-set does: dom0 writes memory/target (in KiB) to
the domain's xenstore directory, and a balloon driver in the guest gives frames back
(XENMEM_decrease_reservation) or takes them again (populate_physmap) to follow it. The target
may not exceed the memory the domain was created with.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('mem-set', argv, {});
    if (helpRequested(p, memSet)) return 0;
    if (p.positionals.length !== 2) throw new UsageError('mem-set: expected DOMAIN and MiB');
    const [domain, size] = p.positionals as [string, string];
    if (!/^\d+$/.test(size)) throw new UsageError(`mem-set: MiB must be a whole number (got '${size}')`);
    const r = await withClient(runDirOf(p), (c) => c.request<{ target_kib: number }>('mem-set', { domain, memoryMiB: Number(size) }));
    process.stdout.write(`domain ${domain}: memory target ${r.target_kib} KiB\n`);
    return 0;
  },
};
