// block-commands.ts: xl block-attach and block-detach — hot-plug a PV disk into a running domain
// through xenbus (blkback) and take it away again; both change the domain's saved settings.
import { parse, runDirOf, helpRequested, withClient, RUN_DIR_HELP, type Command } from '../command.ts';
import { UsageError } from '../usage-error.ts';
import { parseDiskSpec } from '../config.ts';
import { text } from './domain-commands.ts';

export const blockAttach: Command = {
  name: 'block-attach',
  synopsis: 'pvkvm block-attach DOMAIN DISKSPEC  hot-plug a PV disk into a running domain',
  help: `Usage: pvkvm block-attach DOMAIN DISKSPEC [--run-dir DIR]

Plug a disk into a running domain, as xl block-attach: dom0 creates the vbd device pair in
xenstore and blkback serves it; the guest's blkfront sees device/vbd/ID appear (the SDK's
block_wait_present / blkfront_wait_vbd) and connects. DISKSPEC is an xl disk spec, positional
('/img,raw,xvdb,rw') or keyed ('target=/img,vdev=xvdb,access=ro'); a relative path is taken from
the current directory. The disk stays in the domain's settings, so a restart brings it back.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('block-attach', argv, {});
    if (helpRequested(p, blockAttach)) return 0;
    if (p.positionals.length !== 2) throw new UsageError('block-attach: expected DOMAIN and DISKSPEC');
    const [domain, spec] = p.positionals as [string, string];
    let disk;
    try {
      disk = parseDiskSpec(spec, 0, process.cwd());
    } catch (err) {
      throw new UsageError(`block-attach: ${(err as Error).message.replace(/^disk 0: /, '')}`);
    }
    const { target, vdev, access } = disk;
    const r = await withClient(runDirOf(p), (c) => c.request<Record<string, unknown>>('block-attach', { domain, disk: { target, vdev, access } }));
    process.stdout.write(`domain ${domain}: attached ${text(r?.vdev, 8)} (${text(r?.target, 200)}, ${text(r?.access, 2)})\n`);
    return 0;
  },
};

export const blockDetach: Command = {
  name: 'block-detach',
  synopsis: 'pvkvm block-detach DOMAIN VDEV|DEVID  hot-unplug a PV disk',
  help: `Usage: pvkvm block-detach DOMAIN VDEV|DEVID [--run-dir DIR]

Take a disk away from a running domain, as xl block-detach: dom0 sets the backend Closing and
waits (up to 10 s) for the guest's blkfront to close the device (the SDK's
blkfront_wait_removal, then blkfront_close), then removes it and drops it from the domain's
settings. VDEV is its name (xvdb), DEVID its number (51728) as block-list shows.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('block-detach', argv, {});
    if (helpRequested(p, blockDetach)) return 0;
    if (p.positionals.length !== 2) throw new UsageError('block-detach: expected DOMAIN and VDEV (xvdb) or DEVID');
    const [domain, which] = p.positionals as [string, string];
    if (!/^((xvd|sd|hd)[a-z]{1,2}|\d{1,9})$/.test(which)) throw new UsageError(`block-detach: '${which.slice(0, 32)}' is not a vdev (xvdb) or devid`);
    const r = await withClient(runDirOf(p), (c) => c.request<Record<string, unknown>>('block-detach', { domain, vdev: which }));
    process.stdout.write(`domain ${domain}: detached ${text(r?.vdev, 8)}\n`);
    return 0;
  },
};
