// network-cli.test.ts: vifs end to end through the real daemons — `pvkvm up`, a guest created with
// a vif, network-list and info showing it (MAC, state, TAP, bridge), a second vif attached on a
// host bridge and detached again, and `down` leaving no TAP device behind. Skips visibly while
// dom0 has no network backend.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';
import { guestPath } from './helpers/run-guest.ts';
import { xenOuiMac } from '../abi/domain-settings.ts';
import type { VifStatus } from '../abi/control.ts';

/** `ip` output, or null when iproute2 is missing or refuses (not root). */
function ip(...args: string[]): string | null {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return null;
  }
}

const tapsOf = (domid: number): string[] =>
  (ip('-o', 'link', 'show') ?? '').split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '').filter((n) => n.startsWith(`vif${domid}.`));

t.test('a guest with vifs: list, info, attach, detach, down', kvmTest(), async (t) => {
  const d = await startDaemons();
  let downed = false;
  t.teardown(async () => { if (!downed) await d.down(); });

  const cfg = join(d.runDir, 'net.cfg');
  writeFileSync(cfg, `name = "net"\nkernel = "${guestPath('spin')}"\nmemory = 32\nvif = [ '' ]\n`);
  const created = await d.cli(['create', cfg]);
  if (created.code !== 0 && /no network backend/.test(created.stderr)) {
    t.skip('this dom0 has no network backend yet (netback not wired into dom0d.ts)', () => undefined);
    return;
  }
  t.equal(created.code, 0, created.stderr);
  const domid = Number(/created domain (\d+)/.exec(created.stdout)![1]);

  const listJson = async (): Promise<VifStatus[]> => {
    const r = await d.cli(['network-list', 'net', '--json']);
    t.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as VifStatus[];
  };
  const [v0] = await listJson();
  t.match(v0, { domid, devid: 0, mac: xenOuiMac('net', 0), bridge: null, tap: null }, 'the vif on the internal switch (no TAP device)');
  t.type(v0!.state, 'string');
  const table = await d.cli(['network-list', 'net']);
  t.match(table.stdout, new RegExp(`\\n${domid} +0 +${xenOuiMac('net', 0)} +0 +\\S+ +- +\\(internal\\)`));
  const info = JSON.parse((await d.cli(['info', 'net'])).stdout) as { vifs: VifStatus[] };
  t.match(info.vifs, [{ devid: 0, mac: xenOuiMac('net', 0), counters: { txPackets: Number, rxPackets: Number } }], 'info shows the vif and its counters');
  t.same(tapsOf(domid), [], 'a vif on the internal switch has no TAP device');

  // A second vif on a host bridge of our own (removed afterwards), when this host lets us make one.
  const bridge = `pvkt${process.pid % 100000}`;
  const haveBridge = ip('link', 'add', bridge, 'type', 'bridge') !== null;
  if (haveBridge) t.teardown(() => { ip('link', 'del', bridge); });
  const att = await d.cli(['network-attach', 'net', ...(haveBridge ? [`bridge=${bridge}`] : [])]);
  t.equal(att.code, 0, att.stderr);
  t.match(att.stdout, /attached vif 1 /);
  const both = await listJson();
  t.same(both.map((v) => v.devid), [0, 1]);
  t.match(both[1], { tap: haveBridge ? `vif${domid}.1` : null, bridge: haveBridge ? bridge : null });
  if (haveBridge) {
    t.same(tapsOf(domid), [`vif${domid}.1`], 'the bridged vif has its TAP device');
    t.match(ip('-o', 'link', 'show', 'master', bridge), new RegExp(`vif${domid}\\.1`), 'which joined the bridge');
  }

  const det = await d.cli(['network-detach', 'net', '1']);
  t.equal(det.code, 0, det.stderr);
  t.same((await listJson()).map((v) => v.devid), [0]);
  t.same(await eventually(() => (tapsOf(domid).length === 0 ? tapsOf(domid) : undefined)), [], 'the detached TAP is gone');
  // Attach once more, so that `down` has a TAP device to clean up.
  if (haveBridge) t.equal((await d.cli(['network-attach', 'net', `bridge=${bridge}`])).code, 0);

  await d.down();
  downed = true;
  t.same(tapsOf(domid), [], 'no TAP device left after down');
});
