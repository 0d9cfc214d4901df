// main.ts: the `pvkvm` command — finds the subcommand in the table and turns errors into one
// clear line.
import { PVKVM_VERSION } from '../abi/pvkvm-version.ts';
import { UsageError } from './usage-error.ts';
import { PvkvmError } from '../host/errors.ts';
import { EXIT, EXIT_CODE_HELP } from './exit-codes.ts';
import type { Command } from './command.ts';
import { run } from './commands/run.ts';
import { up, down } from './commands/daemons-up-down.ts';
import { create } from './commands/create.ts';
import { list, info, consoleCmd, pause, unpause, shutdown, destroy, dmesg, memSet } from './commands/domain-commands.ts';
import { networkAttach, networkDetach, networkList } from './commands/network-commands.ts';
import { daemon } from './daemon-command.ts';
import { reboot, uptime, memMax, vcpuList, vcpuPin, vcpuSet, blockList } from './commands/xl-commands.ts';
import { save, restore } from './commands/save-restore.ts';
import { top } from './commands/top.ts';
import { sdk } from './commands/sdk.ts';
import { blockAttach, blockDetach } from './commands/block-commands.ts';

/** Every subcommand, in the order `pvkvm --help` lists them. */
const COMMANDS: readonly Command[] = [run, up, down, create, list, info, top, uptime, consoleCmd, dmesg, memSet, memMax, vcpuList, vcpuSet, vcpuPin,
  pause, unpause, shutdown, reboot, destroy, blockList, blockAttach, blockDetach, networkAttach, networkDetach, networkList, save, restore,
  sdk, daemon];

function usage(): string {
  const lines = COMMANDS.filter((c) => c.synopsis !== '').map((c) => `  ${c.synopsis}`).join('\n');
  return `pvkvm ${PVKVM_VERSION} — a Xen-ABI paravirtualizing hypervisor on Linux KVM

Usage:
${lines}
  pvkvm --version                print the version
  pvkvm --help                   show this help

'pvkvm COMMAND --help' describes one command. Toolstack commands take --run-dir DIR
(default $PVKVM_RUN_DIR or /run/pvkvm).

${EXIT_CODE_HELP}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? EXIT.usage : 0;
  }
  if (name === '-V' || name === '--version') {
    process.stdout.write(`pvkvm ${PVKVM_VERSION}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (cmd === undefined) throw new UsageError(`unknown command '${name}' (try pvkvm --help)`);
  return cmd.run(rest);
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
