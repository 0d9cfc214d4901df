// main.ts: the `pvkvm` command — dispatches subcommands and turns errors into one clear line.
import { PVKVM_VERSION } from '../version.ts';
import { UsageError } from './usage-error.ts';
import { PvkvmError } from '../errors.ts';
import { EXIT, EXIT_CODE_HELP } from './exit-codes.ts';
import { parseRunArgs, RUN_USAGE } from './run-args.ts';
import { runGuest } from './run.ts';
import { daemonCommand } from './daemon-command.ts';
import { toolstackCommand, TOOLSTACK_USAGE } from './toolstack-commands.ts';

const USAGE = `pvkvm ${PVKVM_VERSION} — a Xen-ABI paravirtualizing hypervisor on Linux KVM

Usage:
  pvkvm run KERNEL [options]   boot a Xen PVH kernel and stream its console (private daemons)
${TOOLSTACK_USAGE}
  pvkvm daemon hypervisor|dom0 run one daemon in the foreground (what 'up' starts)
  pvkvm --version              print the version
  pvkvm --help                 show this help

Run 'pvkvm run --help' for the run options.

${EXIT_CODE_HELP}`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return cmd === undefined ? EXIT.usage : 0;
    case '-V':
    case '--version':
      process.stdout.write(`pvkvm ${PVKVM_VERSION}\n`);
      return 0;
    case 'run': {
      const opts = parseRunArgs(rest);
      if (opts === 'help') {
        process.stdout.write(`${RUN_USAGE}\n\n${EXIT_CODE_HELP}\n`);
        return 0;
      }
      return runGuest(opts);
    }
    case 'daemon':
      return daemonCommand(rest);
    case 'up': case 'down': case 'create': case 'list': case 'info': case 'console':
    case 'pause': case 'unpause': case 'shutdown': case 'destroy':
      return toolstackCommand(cmd, rest);
    default:
      throw new UsageError(`unknown command '${cmd}' (try pvkvm --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    // User mistakes and host problems get one line; anything else is a pvkvm bug worth a stack.
    if (err instanceof UsageError) {
      process.stderr.write(`pvkvm: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else if (err instanceof PvkvmError || err instanceof RangeError) {
      process.stderr.write(`pvkvm: ${err.message}\n`);
      process.exitCode = EXIT.error;
    } else {
      process.stderr.write(`pvkvm: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = EXIT.error;
    }
  },
);
