// toolstack-leaks.test.ts: 50 create/destroy cycles through the daemons leave the open fds and
// the RSS of both the hypervisor and dom0 at their earlier level.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, processFds, processRssKiB } from './helpers/daemons.ts';
import { guestPath } from './helpers/run-guest.ts';
import { ControlClient } from '../cli/control-client.ts';

const CYCLES = 50;
/** Generous: V8's heap grows and shrinks on its own schedule; a leak of ~1 MiB per domain would show. */
const RSS_SLACK_KIB = 40 * 1024;

t.test(`${CYCLES} create/destroy cycles leak no fds or memory in either daemon`, kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const c = await ControlClient.connect(d.runDir);
  t.teardown(() => c.close());
  const settings = (i: number, guest: string, cmdline: string) => ({
    name: `cycle-${i}`, kernel: guestPath(guest), cmdline, memoryMiB: 32, vcpus: 1, modules: [],
    onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy',
  });
  const cycle = async (i: number): Promise<void> => {
    // Alternate a guest that uses xenstore and the PV console and ends by itself with one that
    // is destroyed while running.
    if (i % 2 === 0) {
      const r = await c.request<{ domid: number }>('create', { settings: settings(i, 'hello', '') });
      await c.request('wait', { domain: String(r.domid) }).catch(() => undefined);
    } else {
      const r = await c.request<{ domid: number }>('create', { settings: settings(i, 'spin', 'mode=busy') });
      await c.request('destroy', { domain: String(r.domid) });
    }
  };
  for (let i = 0; i < 4; i++) await cycle(-1 - i); // warm-up: threads, caches, lazily opened fds
  await new Promise((r) => setTimeout(r, 300));
  const pids = { hypervisor: d.pid('hypervisor'), dom0: d.pid('dom0') };
  const before = { hvFds: processFds(pids.hypervisor), d0Fds: processFds(pids.dom0), hvRss: processRssKiB(pids.hypervisor), d0Rss: processRssKiB(pids.dom0) };
  for (let i = 0; i < CYCLES; i++) await cycle(i);
  await new Promise((r) => setTimeout(r, 300));
  const after = { hvFds: processFds(pids.hypervisor), d0Fds: processFds(pids.dom0), hvRss: processRssKiB(pids.hypervisor), d0Rss: processRssKiB(pids.dom0) };
  t.comment(`before ${JSON.stringify(before)} after ${JSON.stringify(after)}`);
  t.same(JSON.parse(await c.request('list').then((l) => JSON.stringify(l))), [], 'no domain left');
  t.ok(after.hvFds <= before.hvFds, `hypervisor fds ${before.hvFds} → ${after.hvFds}`);
  t.ok(after.d0Fds <= before.d0Fds, `dom0 fds ${before.d0Fds} → ${after.d0Fds}`);
  t.ok(after.hvRss - before.hvRss < RSS_SLACK_KIB, `hypervisor RSS ${before.hvRss} → ${after.hvRss} KiB`);
  t.ok(after.d0Rss - before.d0Rss < RSS_SLACK_KIB, `dom0 RSS ${before.d0Rss} → ${after.d0Rss} KiB`);
});
