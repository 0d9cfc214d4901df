// evtchn-fifo-guests.test.ts: guests on the FIFO event ABI — its set-up commands and every error
// (fifo-ops), events in queue and priority order through the upcall (fifo-events), and two domains
// bouncing events through the relay thread, both on FIFO and across the two ABIs (fifo-pingpong).
// evtchn-ops (events.test.ts) checks that a guest which never asks for FIFO stays 2-level.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kvmTest } from './helpers/kvm.ts';
import { ROOT, guestPath, runGuest, testResult } from './helpers/run-guest.ts';
import { Hypervisor } from '../hypervisor/domain/hypervisor.ts';
import type { Domain, DomainEnd } from '../hypervisor/domain/domain.ts';

for (const name of ['fifo-ops', 'fifo-events']) {
  t.test(name, kvmTest(), async (t) => {
    const r = await runGuest(name);
    t.equal(testResult(r.stdout), 'SUCCESS', `${name} reports SUCCESS\n${r.stdout}\n${r.stderr}`);
    t.match(r.stdout, new RegExp(`${name}: at CPL 3`), 'at CPL 3, the SDK\'s default (upcalls through its kernel)');
    t.equal(r.code, 0, 'the guest powered off');
  });
}

const workerUrl = pathToFileURL(join(ROOT, 'dist', 'vcpu-worker.js'));

function run(d: Domain): Promise<{ end: DomainEnd; out: string }> {
  let out = '';
  d.on('console', (s) => { out += s; });
  return new Promise((resolve) => d.once('dead', (end) => resolve({ end, out })));
}

for (const [abiA, abiB] of [['fifo', 'fifo'], ['fifo', '2l'], ['2l', 'fifo']] as const) {
  t.test(`two domains ping-pong over the relay thread (${abiA} ↔ ${abiB})`, kvmTest(), async (t) => {
    const hv = new Hypervisor(workerUrl);
    t.teardown(() => hv.close());
    const kernel = new Uint8Array(readFileSync(guestPath('fifo-pingpong')));
    const rounds = 5000;
    const base = { kernel, kernelName: 'fifo-pingpong.elf', memoryMiB: 16, vcpus: 1, modules: [] };
    const peer = hv.peekDomid() + 1;
    const a = hv.createDomain({ ...base, name: 'ping', cmdline: `role=a peer=${peer} n=${rounds} abi=${abiA} timeout_ms=60000` });
    const b = hv.createDomain({ ...base, name: 'pong', cmdline: `role=b peer=${a.domid} port=1 n=${rounds} abi=${abiB} timeout_ms=60000` });
    t.equal(b.domid, peer, 'the peer id A was given');
    const timer = setTimeout(() => { a.destroy('test timeout'); b.destroy('test timeout'); }, 90_000);
    const [ra, rb] = await Promise.all([run(a), run(b)]);
    clearTimeout(timer);
    for (const [name, r] of [['A', ra], ['B', rb]] as const) {
      t.equal(testResult(r.out), 'SUCCESS', `${name} succeeded\n${r.out}`);
      t.match(r.out, /fifo-pingpong: at CPL 3/, `${name} ran at CPL 3`);
      t.match(r.out, new RegExp(`received=${rounds}\\b`), `${name} received exactly ${rounds} events`);
      t.same(r.end, { kind: 'shutdown', reason: 0 });
    }
  });
}
