// network-commands.ts: xl's vif hot-plug commands — network-attach, network-detach and
// network-list — each one request to dom0's toolstack.
import { parse, runDirOf, helpRequested, withClient, RUN_DIR_HELP, type Command } from '../command.ts';
import { UsageError } from '../usage-error.ts';
import { parseVifSpec } from '../vif-spec.ts';
import { MAX_VIF_DEVID, type VifSetting } from '../../abi/domain-settings.ts';
import type { VifStatus } from '../../abi/control.ts';

const SPEC_HELP = `SPEC is an xl vif spec (xl-network-configuration(5)), comma-separated key=value:
  mac=00:16:3e:xx:xx:xx  the guest's MAC (default: a stable Xen-OUI one from name and devid)
  bridge=BR              the host bridge the TAP device vifDOMID.DEVID joins (default: dom0's
                         internal switch, which connects the guests to each other)
  ip=A.B.C.D             the guest's IPv4 address, published in xenstore
  rate=RATE/s[@INTERVAL] transmit limit, e.g. 100Mb/s, 10MB/s, 1MB/s@20ms
  devid=N                the handle (default: one past the highest in use)
  type=vif, model=…, script=vif-bridge, backend=0, mtu=1500 are accepted as xl has them.`;

export const networkAttach: Command = {
  name: 'network-attach',
  synopsis: 'pvkvm network-attach DOMAIN [SPEC]   plug a network interface (vif) into a running domain',
  help: `Usage: pvkvm network-attach DOMAIN [SPEC] [--run-dir DIR]

Plug a new vif into a running domain, as xl network-attach does. It stays in the domain's
settings, so it comes back when the domain restarts. Prints the new vif's devid and MAC.

${SPEC_HELP}

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('network-attach', argv, {});
    if (helpRequested(p, networkAttach)) return 0;
    if (p.positionals.length < 1) throw new UsageError('network-attach: expected DOMAIN [SPEC]');
    const [domain, ...rest] = p.positionals as [string, ...string[]];
    // xl takes the spec's keys as separate arguments too: `network-attach g mac=… bridge=…`.
    const spec = rest.join(',');
    const vif = parseVifSpec(spec, (msg) => { throw new UsageError(`network-attach: ${msg}`); });
    const r = await withClient(runDirOf(p), (c) => c.request<VifSetting>('network-attach', { domain, vif }));
    process.stdout.write(`domain ${domain}: attached vif ${r.devid} (mac ${r.mac}${r.bridge ? `, bridge ${r.bridge}` : ''})\n`);
    return 0;
  },
};

export const networkDetach: Command = {
  name: 'network-detach',
  synopsis: 'pvkvm network-detach DOMAIN DEVID|MAC  unplug a domain\'s vif',
  help: `Usage: pvkvm network-detach DOMAIN DEVID|MAC [--run-dir DIR]

Unplug one vif from a running domain, as xl network-detach does: the guest's frontend is asked
to close, then the backend and the TAP device go. The vif leaves the domain's settings.

${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('network-detach', argv, {});
    if (helpRequested(p, networkDetach)) return 0;
    if (p.positionals.length !== 2) throw new UsageError('network-detach: expected DOMAIN and DEVID or MAC');
    const [domain, which] = p.positionals as [string, string];
    let target: { devid: number } | { mac: string };
    if (/^\d+$/.test(which)) {
      if (Number(which) > MAX_VIF_DEVID) throw new UsageError(`network-detach: devid must be 0..${MAX_VIF_DEVID} (got '${which}')`);
      target = { devid: Number(which) };
    } else if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(which)) {
      target = { mac: which.toLowerCase() };
    } else {
      throw new UsageError(`network-detach: '${which.slice(0, 40)}' is neither a devid nor a MAC (xx:xx:xx:xx:xx:xx)`);
    }
    const r = await withClient(runDirOf(p), (c) => c.request<VifSetting>('network-detach', { domain, ...target }));
    process.stdout.write(`domain ${domain}: detached vif ${r.devid} (mac ${r.mac})\n`);
    return 0;
  },
};

/** xl's columns, where pvkvm has them: the TAP device and bridge stand in for xl's ring details. */
export function formatVifTable(rows: readonly VifStatus[]): string {
  const head = `${'Idx'.padEnd(4)}${'BE'.padEnd(4)}${'Mac Addr.'.padEnd(19)}${'handle'.padEnd(7)}${'state'.padEnd(14)}` +
    `${'tap'.padEnd(16)}${'bridge'.padEnd(16)}BE-path\n`;
  return head + rows.map((v) =>
    `${String(v.domid).padEnd(4)}${'0'.padEnd(4)}${v.mac.padEnd(19)}${String(v.devid).padEnd(7)}${v.state.padEnd(14)}` +
    `${(v.tap ?? '-').padEnd(16)}${(v.bridge ?? '(internal)').padEnd(16)}${v.model === undefined ? `/local/domain/0/backend/vif/${v.domid}/${v.devid}` : `(emulated ${v.model}, no xenbus backend)`}\n`).join('');
}

export const networkList: Command = {
  name: 'network-list',
  synopsis: 'pvkvm network-list DOMAIN... [--json]  list domains\' vifs',
  help: `Usage: pvkvm network-list DOMAIN... [--json] [--run-dir DIR]

One line per vif, as xl network-list: Idx (the domain id), BE (the backend domain, dom0),
Mac Addr., handle (devid), state (the backend's XenbusState; NotServed for a vif of a domain
adopted by a restarted dom0), the host TAP device, the bridge ((internal): dom0's switch) and
the backend's xenstore path. Traffic counters are in --json and in 'pvkvm info'.

  --json          print the vifs as JSON (with counters)
${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('network-list', argv, { json: { type: 'boolean' } });
    if (helpRequested(p, networkList)) return 0;
    if (p.positionals.length === 0) throw new UsageError('network-list: expected at least one DOMAIN');
    const rows = await withClient(runDirOf(p), async (c) => {
      const all: VifStatus[] = [];
      for (const domain of p.positionals) all.push(...await c.request<VifStatus[]>('network-list', { domain }));
      return all;
    });
    process.stdout.write(p.values.json ? `${JSON.stringify(rows)}\n` : formatVifTable(rows));
    return 0;
  },
};
