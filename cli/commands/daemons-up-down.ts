// daemons-up-down.ts: `pvkvm up` and `pvkvm down` — start the hypervisor and dom0 daemons in the
// background, or stop them (dom0 destroys every domain first).
import { parse, runDirOf, helpRequested, withClient, RUN_DIR_HELP, type Command } from '../command.ts';
import { defaultRunDir, ensureRunDir, spawnDaemon, waitForDom0, daemonPid, logTail } from '../daemons.ts';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../usage-error.ts';
import { parseBackends, BACKENDS_FILE } from '../../dom0/third-party-backends.ts';
import { readConfinement, describeStatus } from '../../host/confine-status.ts';
import type { DaemonKind } from '../daemons.ts';

/** How long `down` waits for each daemon to exit. */
const STOP_WAIT_S = 30;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const up: Command = {
  name: 'up',
  synopsis: 'pvkvm up                       start the hypervisor and dom0 daemons',
  help: `Usage: pvkvm up [--backend TYPE=MODULE]... [--no-confine] [--run-dir DIR]

Start whichever of the hypervisor and dom0 daemons is not running. A dom0 started next to a
running hypervisor adopts its domains. A pid file whose process is gone, is a zombie not yet
reaped, or is some other program counts as not running. Says how each daemon it started is
confined, as the kernel reports it (docs/confinement.md).

  --backend TYPE=MODULE   have dom0 load a third-party device backend: the ES module MODULE
                          (it imports 'pvkvm/backend-sdk' and exports start(ctx, opts)) serves
                          xenbus devices of type TYPE. Written to RUN_DIR/backends.json, which
                          dom0 reads at start-up (edit it by hand, or give --backend again;
                          docs/backend-sdk.md). Needs dom0 to (re)start to take effect.
  --no-confine            start the daemons without confinement (for debugging; the same as
                          PVKVM_NO_CONFINE=1)

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('up', argv, { backend: { type: 'string', multiple: true }, 'no-confine': { type: 'boolean' } });
    if (helpRequested(p, up)) return 0;
    const runDir = ensureRunDir(p.values['run-dir'] ?? defaultRunDir());
    const backends = p.values.backend as string[] | undefined;
    if (backends !== undefined) writeBackendsFile(runDir, backends);
    const running = { hypervisor: daemonPid(runDir, 'hypervisor') !== null, dom0: daemonPid(runDir, 'dom0') !== null };
    if (running.hypervisor && running.dom0) {
      process.stdout.write(`pvkvm: daemons already running in ${runDir}\n`);
      return 0;
    }
    const noConfine = p.values['no-confine'] === true;
    const started = [
      ...(running.hypervisor ? [] : [spawnDaemon('hypervisor', runDir, { withParent: false, noConfine })]),
      ...(running.dom0 ? [] : [spawnDaemon('dom0', runDir, { withParent: false, noConfine })]),
    ];
    const dead = (): string | null => {
      const d = started.find((x) => x.child.exitCode !== null);
      return d ? `the ${d.kind} daemon exited at start-up:\n${logTail(runDir, d.kind)}` : null;
    };
    const c = await waitForDom0(runDir, 30_000, dead);
    c.close();
    process.stdout.write(`pvkvm: daemons running in ${runDir}\n`);
    for (const d of started) process.stdout.write(`pvkvm: ${confinementLine(runDir, d.kind)}\n`);
    return 0;
  },
};

/** "dom0 (pid N): seccomp, no_new_privs, own mount namespace, capabilities: ..." from /proc. */
function confinementLine(runDir: string, kind: DaemonKind): string {
  const pid = daemonPid(runDir, kind);
  if (pid === null) return `${kind}: not running`;
  try {
    return `${kind} (pid ${pid}): ${describeStatus(readConfinement(pid))}`;
  } catch {
    return `${kind} (pid ${pid}): confinement unknown (/proc/${pid} unreadable)`;
  }
}

/** --backend TYPE=MODULE entries, checked as dom0 will check them, into RUN_DIR/backends.json. */
function writeBackendsFile(runDir: string, specs: readonly string[]): void {
  const entries = specs.map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`up: --backend wants TYPE=MODULE (got '${spec.slice(0, 64)}')`);
    const module = resolve(spec.slice(eq + 1));
    if (!existsSync(module)) throw new UsageError(`up: backend module ${module.slice(0, 200)} does not exist`);
    return { type: spec.slice(0, eq), module };
  });
  const problem = parseBackends(JSON.stringify(entries));
  if (typeof problem === 'string') throw new UsageError(`up: --backend: ${problem}`);
  writeFileSync(join(runDir, BACKENDS_FILE), `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
}

export const down: Command = {
  name: 'down',
  synopsis: 'pvkvm down                     destroy every domain and stop the daemons',
  help: `Usage: pvkvm down [--run-dir DIR]

Destroy every domain, then stop dom0 and the hypervisor daemon; says what it stopped.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('down', argv, {});
    if (helpRequested(p, down)) return 0;
    const runDir = runDirOf(p);
    const hvPid = daemonPid(runDir, 'hypervisor');
    const d0Pid = daemonPid(runDir, 'dom0');
    if (hvPid === null && d0Pid === null) {
      process.stdout.write(`pvkvm: no daemons running in ${runDir}\n`);
      return 0;
    }
    // The domains dom0 is about to destroy, to say so; dom0's reply is checked field by field.
    let names: string[] = [];
    if (d0Pid !== null) {
      names = await withClient(runDir, async (c) => {
        const l = await c.request<unknown>('list').catch(() => []);
        const found = Array.isArray(l) ? l.map((d: { name?: unknown }) => (typeof d?.name === 'string' ? d.name.slice(0, 64) : '?')) : [];
        await c.request('stop');
        return found;
      }).catch(() => names);
    }
    // dom0 destroys the guests, then the hypervisor stops. Each gets STOP_WAIT_S: on a busy host
    // tearing down guests (grants, backends, TAPs) can take several seconds.
    const polls = (STOP_WAIT_S * 1000) / 10;
    for (let i = 0; i < polls && daemonPid(runDir, 'dom0') !== null; i++) await sleep(10);
    if (hvPid !== null) process.kill(hvPid, 'SIGTERM');
    for (let i = 0; i < polls && daemonPid(runDir, 'hypervisor') !== null; i++) await sleep(10);
    const left = (['dom0', 'hypervisor'] as const).filter((k) => daemonPid(runDir, k) !== null);
    const stopped = [d0Pid !== null && !left.includes('dom0') ? `dom0 (pid ${d0Pid})` : null,
      hvPid !== null && !left.includes('hypervisor') ? `the hypervisor (pid ${hvPid})` : null].filter((x) => x !== null);
    const domains = names.length === 0 ? 'no domains' : `${names.length} domain${names.length === 1 ? '' : 's'} (${names.join(', ')})`;
    if (stopped.length > 0) process.stdout.write(`pvkvm: destroyed ${domains}; stopped ${stopped.join(' and ')} in ${runDir}\n`);
    if (left.length > 0) {
      process.stderr.write(`pvkvm: ${left.join(' and ')} still running after ${STOP_WAIT_S} s (see ${runDir}/*.log)\n`);
      return 1;
    }
    return 0;
  },
};
