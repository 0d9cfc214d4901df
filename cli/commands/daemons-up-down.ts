// daemons-up-down.ts: `pvkvm up` and `pvkvm down` — start the hypervisor and dom0 daemons in the
// background, or stop them (dom0 destroys every domain first).
import { parse, runDirOf, helpRequested, withClient, RUN_DIR_HELP, type Command } from '../command.ts';
import { defaultRunDir, ensureRunDir, spawnDaemon, waitForDom0, daemonPid, logTail } from '../daemons.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const up: Command = {
  name: 'up',
  synopsis: 'pvkvm up                       start the hypervisor and dom0 daemons',
  help: `Usage: pvkvm up [--run-dir DIR]

Start whichever of the hypervisor and dom0 daemons is not running. A dom0 started next to a
running hypervisor adopts its domains. A pid file whose process is gone, is a zombie not yet
reaped, or is some other program counts as not running.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('up', argv, {});
    if (helpRequested(p, up)) return 0;
    const runDir = ensureRunDir(p.values['run-dir'] ?? defaultRunDir());
    const running = { hypervisor: daemonPid(runDir, 'hypervisor') !== null, dom0: daemonPid(runDir, 'dom0') !== null };
    if (running.hypervisor && running.dom0) {
      process.stdout.write(`pvkvm: daemons already running in ${runDir}\n`);
      return 0;
    }
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
  },
};

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
    // dom0 destroys the guests, then the hypervisor stops.
    for (let i = 0; i < 500 && daemonPid(runDir, 'dom0') !== null; i++) await sleep(10);
    if (hvPid !== null) process.kill(hvPid, 'SIGTERM');
    for (let i = 0; i < 500 && daemonPid(runDir, 'hypervisor') !== null; i++) await sleep(10);
    const left = (['dom0', 'hypervisor'] as const).filter((k) => daemonPid(runDir, k) !== null);
    const stopped = [d0Pid !== null && !left.includes('dom0') ? `dom0 (pid ${d0Pid})` : null,
      hvPid !== null && !left.includes('hypervisor') ? `the hypervisor (pid ${hvPid})` : null].filter((x) => x !== null);
    const domains = names.length === 0 ? 'no domains' : `${names.length} domain${names.length === 1 ? '' : 's'} (${names.join(', ')})`;
    if (stopped.length > 0) process.stdout.write(`pvkvm: destroyed ${domains}; stopped ${stopped.join(' and ')} in ${runDir}\n`);
    if (left.length > 0) {
      process.stderr.write(`pvkvm: ${left.join(' and ')} still running after 5 s (see ${runDir}/*.log)\n`);
      return 1;
    }
    return 0;
  },
};
