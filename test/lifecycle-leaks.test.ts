// lifecycle-leaks.test.ts: creating and destroying domains returns fds, slots and memory.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kvmTest } from './helpers/kvm.ts';
import { ROOT, guestPath } from './helpers/run-guest.ts';
import { Hypervisor } from '../hypervisor/domain/hypervisor.ts';
import type { Domain, DomainConfig, DomainEnd } from '../hypervisor/domain/domain.ts';

const workerUrl = pathToFileURL(join(ROOT, 'dist', 'vcpu-worker.js'));
const openFds = (): number => readdirSync('/proc/self/fd').length;
const rssKiB = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

function ended(d: Domain): Promise<DomainEnd> {
  return new Promise((resolve) => d.once('dead', resolve));
}

t.test('30 create/destroy cycles leak no fds, slots or memory', kvmTest(), async (t) => {
  const hv = new Hypervisor(workerUrl);
  t.teardown(() => hv.close());
  const config = (i: number, guest: string, cmdline = ''): DomainConfig => ({
    name: `cycle-${i}`, kernel: new Uint8Array(readFileSync(guestPath(guest))), kernelName: `${guest}.elf`,
    memoryMiB: 32, vcpus: 1, cmdline, modules: [],
  });
  // Warm up once so lazily created threads and caches are part of the baseline.
  const warm = hv.createDomain(config(-1, 'hello'));
  await ended(warm);
  // The timer/relay thread opens its epoll fd on its own schedule: let it settle first.
  await new Promise((r) => setTimeout(r, 500));
  const fds0 = openFds();
  const rss0 = rssKiB();
  for (let i = 0; i < 30; i++) {
    // Alternate guests that finish by themselves with guests destroyed while running.
    const d = hv.createDomain(config(i, i % 2 === 0 ? 'hello' : 'spin', 'mode=busy'));
    const e = ended(d);
    if (i % 2 === 1) d.destroy('cycle');
    await e;
  }
  t.equal(hv.list().length, 0, 'no domain left in the table');
  t.equal(openFds(), fds0, 'open fds back to the baseline');
  // Each domain maps 32 MiB; 30 leaked mappings would add almost 1 GiB. Allow allocator noise only.
  const grown = rssKiB() - rss0;
  t.ok(grown < 64 * 1024, `RSS grew by ${grown} KiB over 30 cycles`);
});
