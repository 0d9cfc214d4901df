// save-restore.ts: `pvkvm save DOMAIN FILE [-c]` and `pvkvm restore FILE`, as xl's; dom0 does the
// work (the guest suspends cooperatively; docs/save-format.md has the file's layout).
import { resolve } from 'node:path';
import { parse, runDirOf, helpRequested, withClient, RUN_DIR_HELP, type Command } from '../command.ts';
import { UsageError } from '../usage-error.ts';

export const save: Command = {
  name: 'save',
  synopsis: 'pvkvm save DOMAIN FILE [-c]     suspend a domain into FILE (destroying it unless -c)',
  help: `Usage: pvkvm save DOMAIN FILE [-c] [--run-dir DIR]

Save a domain's state to FILE, as xl save does: dom0 writes "suspend" to control/shutdown, the
guest suspends itself (SCHEDOP_shutdown with SHUTDOWN_suspend), and its memory, vCPU state, event
channels and xenstore nodes go to FILE. The domain is then destroyed; with -c it carries on, its
suspend returning 1 (cancelled), as with xl save -c. \`pvkvm restore FILE\` brings it back.

  -c              keep the domain running after the save
${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('save', argv, { c: { type: 'boolean', short: 'c' } });
    if (helpRequested(p, save)) return 0;
    if (p.positionals.length !== 2) throw new UsageError('save: expected DOMAIN FILE');
    const [domain, file] = p.positionals as [string, string];
    const keep = p.values.c === true;
    const r = await withClient(runDirOf(p), (c) => c.request<{ pages: number }>('save', { domain, file: resolve(file), keep }));
    process.stdout.write(`domain ${domain} saved to ${file} (${r.pages} pages)${keep ? ', still running' : ''}\n`);
    return 0;
  },
};

export const restore: Command = {
  name: 'restore',
  synopsis: 'pvkvm restore FILE              a domain from a file made by pvkvm save',
  help: `Usage: pvkvm restore FILE [--run-dir DIR]

Build a new domain (same name and settings) from a file made by \`pvkvm save\`; the guest resumes
where it suspended (its suspend returns 0) and reconnects to xenstore and its console.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('restore', argv, {});
    if (helpRequested(p, restore)) return 0;
    if (p.positionals.length !== 1) throw new UsageError('restore: expected FILE');
    const r = await withClient(runDirOf(p), (c) => c.request<{ domid: number; name: string }>('restore', { file: resolve(p.positionals[0]!) }));
    process.stdout.write(`restored domain ${r.domid} (${r.name})\n`);
    return 0;
  },
};
