// xl-commands.ts: more of xl's everyday commands — reboot, uptime, mem-max, vcpu-pin, vcpu-list,
// vcpu-set and block-list — each one or two requests to dom0's toolstack.
import { parse, runDirOf, helpRequested, oneDomain, withClient, RUN_DIR_HELP, type Command } from '../command.ts';
import { UsageError } from '../usage-error.ts';
import { describeEnd } from '../exit-codes.ts';
import { parseCpuList } from '../cpu-list.ts';
import { text, num } from './domain-commands.ts';
import type { DomainEndReport } from '../../abi/control.ts';

/** Rows from dom0: a list of objects, anything else an empty list. */
function rows(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null) : [];
}

/** "1 day, 2:03:04" / "2:03:04", as xl uptime prints it. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const hms = `${Math.floor((s % 86400) / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return days > 0 ? `${days} day${days === 1 ? '' : 's'}, ${hms}` : hms;
}

export const reboot: Command = {
  name: 'reboot',
  synopsis: 'pvkvm reboot DOMAIN [--no-wait]  ask the guest to reboot (control/shutdown = reboot)',
  help: `Usage: pvkvm reboot DOMAIN [--timeout S] [--no-wait] [--run-dir DIR]

Ask the guest to reboot, as xl reboot does: dom0 writes "reboot" to control/shutdown; the guest
shuts down with SHUTDOWN_reboot and its on_reboot action (default restart) brings it back. A guest
still there after S seconds (default 30) is destroyed.

  --timeout S     seconds before the domain is destroyed
  --no-wait       return once the request is written
${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('reboot', argv, { timeout: { type: 'string' }, 'no-wait': { type: 'boolean' } });
    if (helpRequested(p, reboot)) return 0;
    const domain = oneDomain('reboot', p.positionals);
    const t = p.values.timeout === undefined ? 30 : Number(p.values.timeout as string);
    if (!Number.isInteger(t) || t <= 0) throw new UsageError('reboot: --timeout must be a positive whole number of seconds');
    const wait = p.values['no-wait'] !== true;
    const end = await withClient(runDirOf(p), (c) => c.request<unknown>('shutdown', { domain, mode: 'reboot', timeoutMs: t * 1000, wait }));
    if (!wait || typeof end !== 'object' || end === null || !('kind' in end)) {
      process.stdout.write(`domain ${domain}: reboot requested\n`);
    } else {
      process.stdout.write(`domain ${domain} ${describeEnd(end as DomainEndReport)}\n`);
    }
    return 0;
  },
};

export const uptime: Command = {
  name: 'uptime',
  synopsis: 'pvkvm uptime [DOMAIN...]        how long each domain has run',
  help: `Usage: pvkvm uptime [DOMAIN...] [--run-dir DIR]

Name, ID and Uptime of each domain (or those named), as xl uptime; Domain-0's is dom0's.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('uptime', argv, {});
    if (helpRequested(p, uptime)) return 0;
    const all = rows(await withClient(runDirOf(p), (c) => c.request<unknown>('list', { dom0: true })));
    const wanted = p.positionals;
    const missing = wanted.find((w) => !all.some((d) => d.name === w || String(d.domid) === w));
    if (missing !== undefined) throw new UsageError(`uptime: no domain '${missing.slice(0, 64)}'`, 1);
    const shown = wanted.length === 0 ? all : all.filter((d) => wanted.includes(String(d.name)) || wanted.includes(String(d.domid)));
    process.stdout.write(`${'Name'.padEnd(40)}${'ID'.padStart(5)} Uptime\n`);
    for (const d of shown) {
      const up = typeof d.uptime_s === 'number' && Number.isFinite(d.uptime_s) ? formatUptime(d.uptime_s) : '-';
      process.stdout.write(`${text(d.name, 39).padEnd(40)}${num(d.domid).padStart(5)} ${up}\n`);
    }
    return 0;
  },
};

export const memMax: Command = {
  name: 'mem-max',
  synopsis: 'pvkvm mem-max DOMAIN MiB        set the most mem-set may give a domain (memory/static-max)',
  help: `Usage: pvkvm mem-max DOMAIN MiB [--run-dir DIR]

Set a domain's maximum memory, as xl mem-max: later mem-set targets may not exceed it, and dom0
writes it to memory/static-max (KiB). It lies between the current target and the memory the
domain was built with (its maxmem): the hypervisor fixes a domain's RAM when it is created.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('mem-max', argv, {});
    if (helpRequested(p, memMax)) return 0;
    if (p.positionals.length !== 2) throw new UsageError('mem-max: expected DOMAIN and MiB');
    const [domain, size] = p.positionals as [string, string];
    if (!/^\d{1,7}$/.test(size)) throw new UsageError(`mem-max: MiB must be a whole number (got '${size.slice(0, 20)}')`);
    const r = await withClient(runDirOf(p), (c) => c.request<{ static_max_kib?: unknown }>('mem-max', { domain, memoryMiB: Number(size) }));
    process.stdout.write(`domain ${domain}: maximum memory ${num(r?.static_max_kib)} KiB\n`);
    return 0;
  },
};

/** vcpu-list's rows as xl prints them. */
function vcpuTable(name: string, domid: unknown, vcpus: readonly Record<string, unknown>[]): string {
  return vcpus.map((v) => {
    const cpus = Array.isArray(v.cpus) ? v.cpus.filter((c): c is number => Number.isInteger(c)) : [];
    const state = v.online === true ? 'online' : 'offline';
    return `${text(name, 31).padEnd(32)}${num(domid).padStart(5)}${num(v.vcpu).padStart(6)}  ${state.padEnd(8)}${num(v.cpu_time_s, 1).padStart(10)}  ${formatCpuSet(cpus)}\n`;
  }).join('');
}

/** "0-3,8" for a CPU list. */
function formatCpuSet(cpus: readonly number[]): string {
  const sorted = [...cpus].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',') || '-';
}

export const vcpuList: Command = {
  name: 'vcpu-list',
  synopsis: 'pvkvm vcpu-list DOMAIN...       each vCPU\'s CPU time and CPU affinity',
  help: `Usage: pvkvm vcpu-list DOMAIN... [--run-dir DIR]

One line per vCPU, as xl vcpu-list: Name, ID, VCPU, State (online: up in the hypervisor;
offline: never brought up by the guest, or taken down with VCPUOP_down, e.g. after vcpu-set),
Time(s) (CPU time of its host thread) and CPU Affinity (the host CPUs its thread may run on).

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('vcpu-list', argv, {});
    if (helpRequested(p, vcpuList)) return 0;
    if (p.positionals.length === 0) throw new UsageError('vcpu-list: expected at least one DOMAIN');
    const out = await withClient(runDirOf(p), async (c) => {
      let s = `${'Name'.padEnd(32)}${'ID'.padStart(5)}${'VCPU'.padStart(6)}  ${'State'.padEnd(8)}${'Time(s)'.padStart(10)}  CPU Affinity\n`;
      for (const domain of p.positionals) {
        const info = await c.request<Record<string, unknown>>('info', { domain });
        s += vcpuTable(text(info?.name, 64), info?.domid, rows(await c.request<unknown>('vcpu-list', { domain })));
      }
      return s;
    });
    process.stdout.write(out);
    return 0;
  },
};

export const vcpuSet: Command = {
  name: 'vcpu-set',
  synopsis: 'pvkvm vcpu-set DOMAIN N         have the guest use vCPUs 0..N-1 (hot-plug, up to maxvcpus)',
  help: `Usage: pvkvm vcpu-set DOMAIN N [--run-dir DIR]

Change how many vCPUs a guest uses, as xl vcpu-set: dom0 writes cpu/I/availability = "online"
for I < N and "offline" for the rest. The guest (Linux's Xen cpu hot-plug driver, or the SDK's
xenbus_handle_cpu_hotplug) takes vCPUs out of use and downs them with VCPUOP_down, or ups them
with VCPUOP_up; pvkvm vcpu-list shows when it has. N is 1..maxvcpus (the config's maxvcpus,
default its vcpus).

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('vcpu-set', argv, {});
    if (helpRequested(p, vcpuSet)) return 0;
    if (p.positionals.length !== 2) throw new UsageError('vcpu-set: expected DOMAIN and N');
    const [domain, count] = p.positionals as [string, string];
    if (!/^\d{1,3}$/.test(count) || Number(count) < 1) throw new UsageError(`vcpu-set: N must be a whole number from 1 (got '${count.slice(0, 20)}')`);
    const r = await withClient(runDirOf(p), (c) => c.request<{ vcpus?: unknown; max_vcpus?: unknown }>('vcpu-set', { domain, vcpus: Number(count) }));
    process.stdout.write(`domain ${domain}: ${num(r?.vcpus)} of ${num(r?.max_vcpus)} vCPUs available\n`);
    return 0;
  },
};

export const vcpuPin: Command = {
  name: 'vcpu-pin',
  synopsis: 'pvkvm vcpu-pin DOMAIN VCPU|all CPUS  pin vCPU threads to host CPUs',
  help: `Usage: pvkvm vcpu-pin DOMAIN VCPU|all CPUS [--run-dir DIR]

Set the hard CPU affinity of one vCPU (or all), as xl vcpu-pin: its host thread in the hypervisor
daemon may run only on CPUS, an xl CPU list such as 2, 0-3,^1, all or node:0. xl's soft-affinity
argument is not supported (Linux has none). Lasts until the domain ends; the config's cpus =
applies at every (re)start.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('vcpu-pin', argv, {});
    if (helpRequested(p, vcpuPin)) return 0;
    if (p.positionals.length === 4) throw new UsageError('vcpu-pin: soft affinity is not supported (Linux threads have none); give DOMAIN VCPU CPUS');
    if (p.positionals.length !== 3) throw new UsageError('vcpu-pin: expected DOMAIN, VCPU (or all) and CPUS');
    const [domain, which, list] = p.positionals as [string, string, string];
    if (which !== 'all' && !/^\d{1,2}$/.test(which)) throw new UsageError(`vcpu-pin: VCPU must be a number or 'all' (got '${which.slice(0, 20)}')`);
    let cpus: number[];
    try {
      cpus = parseCpuList(list);
    } catch (err) {
      throw new UsageError(`vcpu-pin: ${(err as Error).message}`);
    }
    const vcpus = await withClient(runDirOf(p), (c) =>
      c.request<unknown>('vcpu-pin', { domain, vcpu: which === 'all' ? 'all' : Number(which), cpus }));
    for (const v of rows(vcpus)) {
      process.stdout.write(`domain ${domain}: vCPU ${num(v.vcpu)} on CPUs ${formatCpuSet(Array.isArray(v.cpus) ? v.cpus.filter((c): c is number => Number.isInteger(c)) : [])}\n`);
    }
    return 0;
  },
};

export const blockList: Command = {
  name: 'block-list',
  synopsis: 'pvkvm block-list DOMAIN... [--json]  list domains\' PV disks',
  help: `Usage: pvkvm block-list DOMAIN... [--json] [--run-dir DIR]

One line per disk, as xl block-list: Vdev (the virtual device number), BE (dom0), handle (the
vdev's name), state (the backend's XenbusState; NotServed when no backend serves it, as for a
domain adopted by a restarted dom0), evt-ch and ring-ref (as the guest's frontend published
them), the image, its access, and the backend's xenstore path.

  --json          print the disks as JSON
${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('block-list', argv, { json: { type: 'boolean' } });
    if (helpRequested(p, blockList)) return 0;
    if (p.positionals.length === 0) throw new UsageError('block-list: expected at least one DOMAIN');
    const all = await withClient(runDirOf(p), async (c) => {
      const out: Record<string, unknown>[] = [];
      for (const domain of p.positionals) out.push(...rows(await c.request<unknown>('block-list', { domain })));
      return out;
    });
    if (p.values.json) {
      process.stdout.write(`${JSON.stringify(all)}\n`);
      return 0;
    }
    let s = `${'Vdev'.padEnd(11)}${'BE'.padEnd(4)}${'handle'.padEnd(8)}${'state'.padEnd(14)}${'evt-ch'.padEnd(8)}${'ring-ref'.padEnd(10)}${'access'.padEnd(8)}${'target'.padEnd(32)}BE-path\n`;
    for (const d of all) {
      s += `${num(d.devid).padEnd(11)}${'0'.padEnd(4)}${text(d.vdev, 7).padEnd(8)}${text(d.state, 13).padEnd(14)}${text(d['event-channel'], 7).padEnd(8)}` +
        `${text(d['ring-ref'], 9).padEnd(10)}${text(d.access, 7).padEnd(8)}${text(d.target, 60).padEnd(32)} ${text(d.backend, 80)}\n`;
    }
    process.stdout.write(s);
    return 0;
  },
};
