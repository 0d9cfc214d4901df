// toolstack-commands.ts: the xl-like commands — up, down, create, list, info, console, pause,
// unpause, shutdown, destroy — each a request to dom0's toolstack socket.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './usage-error.ts';
import { PvkvmError } from '../errors.ts';
import { ControlClient, type DomainEndReport } from './control-client.ts';
import { defaultRunDir, ensureRunDir, spawnDaemon, waitForDom0, daemonPid, logTail } from './daemons.ts';
import { parseDomainConfig } from '../../dom0/toolstack/config.ts';
import { ConfigError } from '../../dom0/toolstack/config-error.ts';
import { REASON_NAME } from './exit-codes.ts';

/** Ctrl-] ends `pvkvm console`, as in xl and virsh. */
const DETACH = 0x1d;

export const TOOLSTACK_USAGE = `  pvkvm up                       start the hypervisor and dom0 daemons
  pvkvm down                     destroy every domain and stop the daemons
  pvkvm create CONFIG [-c]       create a domain from an xl-style config (-c: attach its console)
  pvkvm list                     list domains
  pvkvm info DOMAIN              show one domain (state, memory, vCPUs, uptime, exits)
  pvkvm console DOMAIN           attach to a domain's console (Ctrl-] detaches)
  pvkvm pause|unpause DOMAIN     stop or resume a domain's vCPUs
  pvkvm shutdown DOMAIN [--reboot] [--timeout S] [--no-wait]
                                 ask the guest to shut down (control/shutdown), destroy after S s
  pvkvm destroy DOMAIN           stop a domain at once
Toolstack commands take --run-dir DIR (default $PVKVM_RUN_DIR or /run/pvkvm).`;

interface Parsed {
  readonly values: { readonly [k: string]: string | boolean | undefined; readonly 'run-dir'?: string };
  readonly positionals: string[];
}

function parse(argv: readonly string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>): Parsed {
  try {
    const r = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { 'run-dir': { type: 'string' }, ...options } });
    return r as Parsed;
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
}

function oneDomain(cmd: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`${cmd}: expected one DOMAIN (name or id)`);
  return positionals[0]!;
}

export function describeEnd(e: DomainEndReport): string {
  switch (e.kind) {
    case 'shutdown': return `shut down: ${REASON_NAME[e.reason] ?? `reason ${e.reason}`}`;
    case 'fault': return `faulted on vCPU ${e.fault_vcpu} at rip ${e.fault_rip}: ${e.fault_kind} (${e.detail})`;
    default: return `destroyed: ${e.detail}`;
  }
}

async function withClient<T>(runDir: string, fn: (c: ControlClient) => Promise<T>): Promise<T> {
  const c = await ControlClient.connect(runDir);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** Write console output to stdout: registered before the request, whose reply and the replayed
 *  backlog arrive together. */
function streamOutput(c: ControlClient): void {
  c.on('output', (b) => process.stdout.write(b));
}

/** Stream a domain's console to the terminal until Ctrl-] or the domain ends. */
export async function attachConsole(c: ControlClient): Promise<'detached' | DomainEndReport> {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  try {
    return await new Promise<'detached' | DomainEndReport>((resolvePromise) => {
      const onInput = (d: Buffer): void => {
        const i = d.indexOf(DETACH);
        if (i >= 0) {
          if (i > 0) c.input(d.subarray(0, i));
          resolvePromise('detached');
          return;
        }
        c.input(d);
      };
      stdin.on('data', onInput);
      c.once('end', (e) => resolvePromise(e));
      c.once('close', () => resolvePromise('detached'));
    });
  } finally {
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    stdin.removeAllListeners('data');
  }
}

export async function toolstackCommand(cmd: string, argv: readonly string[]): Promise<number> {
  switch (cmd) {
    case 'up': {
      const { values } = parse(argv, {});
      const runDir = ensureRunDir(values['run-dir'] ?? defaultRunDir());
      const running = { hypervisor: daemonPid(runDir, 'hypervisor') !== null, dom0: daemonPid(runDir, 'dom0') !== null };
      if (running.hypervisor && running.dom0) {
        process.stdout.write(`pvkvm: daemons already running in ${runDir}\n`);
        return 0;
      }
      // Start what is missing: a dom0 started next to a running hypervisor adopts its domains.
      const started = [
        ...(running.hypervisor ? [] : [spawnDaemon('hypervisor', runDir, { withParent: false })]),
        ...(running.dom0 ? [] : [spawnDaemon('dom0', runDir, { withParent: false })]),
      ];
      const dead = (): string | null => {
        const d = started.find((x) => x.child.exitCode !== null);
        return d ? `the ${d.kind} daemon exited at start-up:\n${logTail(runDir, d.kind)}` : null;
      };
      const c = await waitForDom0(runDir, 30_000, dead);
      c.close();
      process.stdout.write(`pvkvm: daemons running in ${runDir}\n`);
      return 0;
    }
    case 'down': {
      const { values } = parse(argv, {});
      const runDir = values['run-dir'] ?? defaultRunDir();
      const hvPid = daemonPid(runDir, 'hypervisor');
      const d0Pid = daemonPid(runDir, 'dom0');
      if (d0Pid !== null) await withClient(runDir, (c) => c.request('stop')).catch(() => undefined);
      // dom0 destroys the guests, then the hypervisor stops.
      for (let i = 0; i < 500 && daemonPid(runDir, 'dom0') !== null; i++) await new Promise((r) => setTimeout(r, 10));
      if (hvPid !== null) process.kill(hvPid, 'SIGTERM');
      for (let i = 0; i < 500 && daemonPid(runDir, 'hypervisor') !== null; i++) await new Promise((r) => setTimeout(r, 10));
      if (hvPid === null && d0Pid === null) process.stdout.write(`pvkvm: no daemons running in ${runDir}\n`);
      return 0;
    }
    case 'create': {
      const { values, positionals } = parse(argv, { console: { type: 'boolean', short: 'c' } });
      if (positionals.length !== 1) throw new UsageError('create: expected one CONFIG file');
      const file = resolve(positionals[0]!);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`${file}: cannot read config (${(err as NodeJS.ErrnoException).code})`, 1);
      }
      let spec;
      try {
        spec = parseDomainConfig(text, { file: positionals[0]!, baseDir: dirname(file) });
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message, 1);
        throw err;
      }
      if (spec.vifs.length > 0) throw new UsageError(`${positionals[0]}: vif devices are not supported yet`, 1);
      const settings = {
        name: spec.name, kernel: spec.kernel, cmdline: spec.cmdline, memoryMiB: spec.memoryMiB, vcpus: spec.vcpus,
        modules: [], onPoweroff: spec.onPoweroff, onReboot: spec.onReboot, onCrash: spec.onCrash,
        disks: spec.disks.map((d) => ({ target: d.target, vdev: d.vdev, access: d.access })),
        emulatedDisks: spec.emulatedDisks.map((d) => ({ target: d.target, vdev: d.vdev, access: d.access })),
        console: spec.console,
      };
      const runDir = values['run-dir'] ?? defaultRunDir();
      const c = await ControlClient.connect(runDir);
      if (values.console === true) streamOutput(c);
      try {
        const r = await c.request<{ domid: number; name: string }>('create', { settings, console: values.console === true });
        if (values.console !== true) {
          process.stdout.write(`created domain ${r.domid} (${r.name})\n`);
          return 0;
        }
        const how = await attachConsole(c);
        if (how !== 'detached') process.stderr.write(`pvkvm: domain ${r.domid} (${r.name}) ${describeEnd(how)}\n`);
        return 0;
      } finally {
        c.close();
      }
    }
    case 'list': {
      const { values } = parse(argv, { json: { type: 'boolean' } });
      const list = await withClient(values['run-dir'] ?? defaultRunDir(), (c) => c.request<Record<string, unknown>[]>('list'));
      if (values.json) {
        process.stdout.write(`${JSON.stringify(list)}\n`);
        return 0;
      }
      process.stdout.write(`${'Name'.padEnd(24)}${'ID'.padStart(5)}${'Mem'.padStart(7)}${'VCPUs'.padStart(6)}  ${'State'.padEnd(9)}${'Time(s)'.padStart(9)}\n`);
      for (const d of list) {
        process.stdout.write(`${String(d.name).padEnd(24)}${String(d.domid).padStart(5)}${String(d.memory_mib).padStart(7)}` +
          `${String(d.vcpus).padStart(6)}  ${String(d.state).padEnd(9)}${Number(d.uptime_s).toFixed(1).padStart(9)}\n`);
      }
      return 0;
    }
    case 'info': {
      const { values, positionals } = parse(argv, {});
      const domain = oneDomain('info', positionals);
      const info = await withClient(values['run-dir'] ?? defaultRunDir(), (c) => c.request('info', { domain }));
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    case 'console': {
      const { values, positionals } = parse(argv, {});
      const domain = oneDomain('console', positionals);
      const c = await ControlClient.connect(values['run-dir'] ?? defaultRunDir());
      streamOutput(c);
      try {
        await c.request('console', { domain });
        const how = await attachConsole(c);
        if (how !== 'detached') process.stderr.write(`\npvkvm: domain ${domain} ${describeEnd(how)}\n`);
        return 0;
      } finally {
        c.close();
      }
    }
    case 'pause':
    case 'unpause':
    case 'destroy': {
      const { values, positionals } = parse(argv, {});
      const domain = oneDomain(cmd, positionals);
      await withClient(values['run-dir'] ?? defaultRunDir(), (c) => c.request(cmd, { domain }));
      return 0;
    }
    case 'shutdown': {
      const { values, positionals } = parse(argv, {
        reboot: { type: 'boolean' }, timeout: { type: 'string' }, 'no-wait': { type: 'boolean' },
      });
      const domain = oneDomain('shutdown', positionals);
      const t = values.timeout === undefined ? 30 : Number(values.timeout as string);
      if (!Number.isInteger(t) || t <= 0) throw new UsageError('--timeout must be a positive whole number of seconds');
      const req = withClient(values['run-dir'] ?? defaultRunDir(), (c) =>
        c.request<DomainEndReport>('shutdown', { domain, mode: values.reboot ? 'reboot' : 'poweroff', timeoutMs: t * 1000 }));
      if (values['no-wait']) {
        // The request is written; dom0 carries on without us.
        await new Promise((r) => setTimeout(r, 50));
        return 0;
      }
      const end = await req;
      process.stdout.write(`domain ${domain} ${describeEnd(end)}\n`);
      return 0;
    }
    default:
      throw new PvkvmError(`unknown toolstack command ${cmd}`);
  }
}
