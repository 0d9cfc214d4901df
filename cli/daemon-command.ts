// daemon-command.ts: `pvkvm daemon hypervisor|dom0` — run one daemon in the foreground (what
// `pvkvm up` and `pvkvm run` start; logs go to stderr). The only module that imports both
// daemons' entry points: everything else in cli/ talks to them over their sockets.
import { UsageError } from './usage-error.ts';
import { parse, helpRequested, RUN_DIR_HELP, type Command } from './command.ts';
import { defaultRunDir, ensureRunDir, writePidFile, type DaemonKind } from './daemons.ts';
import { runHypervisorDaemon } from '../hypervisor/daemon/hypervisord.ts';
import { runDom0 } from '../dom0/dom0d.ts';
import { confineDaemon, maybeSelftest } from './daemon-confinement.ts';
import { confinementWanted, NO_CONFINE_ENV } from './daemon-policies.ts';

export const daemon: Command = {
  name: 'daemon',
  synopsis: 'pvkvm daemon hypervisor|dom0   run one daemon in the foreground (what \'up\' starts)',
  help: `Usage: pvkvm daemon hypervisor|dom0 [--run-dir DIR] [--with-parent] [--no-confine]

Run one daemon in the foreground, logging to stderr. It first confines itself (a seccomp
filter, no_new_privs, fewer capabilities; dom0 also a mount namespace without /dev/kvm:
docs/confinement.md) and logs one line saying what was and was not applied.

  --with-parent   exit when standard input closes (the parent that started us went away)
  --no-confine    skip confinement, for debugging (or set ${NO_CONFINE_ENV}=1)
${RUN_DIR_HELP}`,
  run: daemonCommand,
};

async function daemonCommand(argv: readonly string[]): Promise<number> {
  const parsed = parse('daemon', argv, { 'with-parent': { type: 'boolean' }, 'no-confine': { type: 'boolean' } });
  if (helpRequested(parsed, daemon)) return 0;
  const kind = parsed.positionals[0];
  if (kind !== 'hypervisor' && kind !== 'dom0') throw new UsageError("daemon: expected 'hypervisor' or 'dom0'");
  const log = (line: string): void => { process.stderr.write(`${new Date().toISOString()} ${kind}[${process.pid}]: ${line}\n`); };
  // Before anything is opened or stdin is read: stage one re-executes this command.
  confineDaemon(kind, confinementWanted(parsed.values['no-confine'] === true), log);
  const runDir = ensureRunDir(parsed.values['run-dir'] ?? defaultRunDir());
  if (parsed.values['with-parent']) {
    // Our parent holds the other end of stdin: when it goes away, so do we.
    process.stdin.on('close', () => process.kill(process.pid, 'SIGTERM'));
    process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
    process.stdin.resume();
  }
  const removePid = writePidFile(runDir, kind as DaemonKind);
  void maybeSelftest(kind, runDir, log);
  try {
    if (kind === 'hypervisor') await runHypervisorDaemon({ runDir, log });
    else await runDom0({ runDir, eventThreadUrl: new URL('./dom0-event-thread.js', import.meta.url), log });
  } finally {
    removePid();
  }
  log('stopped');
  // Worker threads and sockets are closed; stdin (with-parent) would keep the loop alive.
  process.stdin.destroy();
  return 0;
}
