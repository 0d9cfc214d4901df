// run.ts: `pvkvm run KERNEL` as a table entry — argument parsing in ../run-args.ts, the embedded
// run (private daemons, one domain, its console on stdout) in ../run.ts.
import type { Command } from '../command.ts';
import { parseRunArgs, RUN_USAGE } from '../run-args.ts';
import { runGuest } from '../run.ts';
import { EXIT_CODE_HELP } from '../exit-codes.ts';

export const run: Command = {
  name: 'run',
  synopsis: 'pvkvm run KERNEL [options]     boot a Xen PVH kernel and stream its console (private daemons)',
  help: `${RUN_USAGE}\n\n${EXIT_CODE_HELP}`,
  async run(argv) {
    const opts = parseRunArgs(argv);
    if (opts === 'help') {
      process.stdout.write(`${run.help}\n`);
      return 0;
    }
    return runGuest(opts);
  },
};
