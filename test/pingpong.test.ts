// pingpong.test.ts: two domains in one hypervisor bounce 100 000 events over an interdomain
// event channel; neither side may lose or duplicate one. (Test-only wiring: ports and peers go on
// the command line until xenstore exists.)
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kvmTest } from './helpers/kvm.ts';
import { ROOT, guestPath, testResult } from './helpers/run-guest.ts';
import { Hypervisor } from '../hypervisor/domain/hypervisor.ts';
import type { Domain, DomainEnd } from '../hypervisor/domain/domain.ts';

const workerUrl = pathToFileURL(join(ROOT, 'dist', 'vcpu-worker.js'));

function run(d: Domain): Promise<{ end: DomainEnd; out: string }> {
  let out = '';
  d.on('console', (s) => { out += s; });
  return new Promise((resolve) => d.once('dead', (end) => resolve({ end, out })));
}

t.test('two domains ping-pong 100 000 events', kvmTest(), async (t) => {
  const hv = new Hypervisor(workerUrl);
  t.teardown(() => hv.close());
  const kernel = new Uint8Array(readFileSync(guestPath('pingpong')));
  const rounds = 50_000; // each round is one event each way
  const base = { kernel, kernelName: 'pingpong.elf', memoryMiB: 16, vcpus: 1, modules: [] };
  // A allocates first, so its port is 1; domids are assigned in creation order.
  const peer = hv.peekDomid() + 1;
  const a = hv.createDomain({ ...base, name: 'ping', cmdline: `role=a peer=${peer} n=${rounds} timeout_ms=120000` });
  const b = hv.createDomain({ ...base, name: 'pong', cmdline: `role=b peer=${a.domid} port=1 n=${rounds} timeout_ms=120000` });
  t.equal(b.domid, peer, 'the peer id A was given');
  const timer = setTimeout(() => { a.destroy('test timeout'); b.destroy('test timeout'); }, 150_000);
  const [ra, rb] = await Promise.all([run(a), run(b)]);
  clearTimeout(timer);
  for (const [name, r] of [['A', ra], ['B', rb]] as const) {
    t.equal(testResult(r.out), 'SUCCESS', `${name} succeeded\n${r.out}`);
    t.match(r.out, new RegExp(`received=${rounds}\\b`), `${name} received exactly ${rounds} events`);
    t.same(r.end, { kind: 'shutdown', reason: 0 });
  }
});
