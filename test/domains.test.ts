// domains.test.ts: several domains in one hypervisor — isolation, pause/unpause, destroy, faults.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kvmTest } from './helpers/kvm.ts';
import { ROOT, guestPath } from './helpers/run-guest.ts';
import { Hypervisor } from '../hypervisor/domain/hypervisor.ts';
import type { Domain, DomainConfig, DomainEnd } from '../hypervisor/domain/domain.ts';

const workerUrl = pathToFileURL(join(ROOT, 'dist', 'vcpu-worker.js'));

function config(name: string, guest: string, cmdline = ''): DomainConfig {
  return {
    name, kernel: new Uint8Array(readFileSync(guestPath(guest))), kernelName: `${guest}.elf`,
    memoryMiB: 16, vcpus: 1, cmdline, modules: [],
  };
}

function ended(d: Domain): Promise<DomainEnd> {
  return new Promise((resolve) => d.once('dead', resolve));
}

function output(d: Domain): { text: string } {
  const o = { text: '' };
  d.on('console', (s) => { o.text += s; });
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('domains', kvmTest(), async (t) => {
  const hv = new Hypervisor(workerUrl);
  t.teardown(() => hv.close());

  t.test('two guests run at once; a faulting guest does not disturb the other', async (t) => {
    const spin = hv.createDomain(config('spinner', 'spin', 'mode=busy'));
    const fault = hv.createDomain(config('faulter', 'triplefault'));
    const hello = hv.createDomain(config('greeter', 'hello'));
    t.not(spin.domid, fault.domid, 'distinct domain ids');
    const helloOut = output(hello);
    const [fEnd, hEnd] = await Promise.all([ended(fault), ended(hello)]);
    t.equal(fEnd.kind, 'fault');
    if (fEnd.kind === 'fault') t.equal(fEnd.fault.kind, 'triple-fault');
    t.same(hEnd, { kind: 'shutdown', reason: 0 });
    t.match(helloOut.text, /Hello from a pvkvm PVH guest!/);
    t.equal(spin.state, 'running', 'the spinning guest is still running');
    const sEnd = ended(spin);
    spin.destroy('test done');
    t.same(await sEnd, { kind: 'destroyed', why: 'test done' });
    t.equal(hv.list().length, 0, 'every domain is gone from the table');
  });

  t.test('names are unique', async (t) => {
    const a = hv.createDomain(config('same', 'spin', 'mode=hlt'));
    t.throws(() => hv.createDomain(config('same', 'hello')), /already exists/);
    const e = ended(a);
    a.destroy();
    await e;
  });

  t.test('pause stops a vCPU in KVM_RUN; unpause resumes it', async (t) => {
    const d = hv.createDomain(config('pauser', 'spin', 'mode=hlt'));
    await sleep(200);
    d.pause();
    t.equal(d.state, 'paused');
    await sleep(100);
    d.unpause();
    t.equal(d.state, 'running');
    const e = ended(d);
    d.destroy();
    t.equal((await e).kind, 'destroyed', 'a guest halted with interrupts off can still be destroyed');
  });

  t.test('destroying a paused domain works', async (t) => {
    const d = hv.createDomain(config('paused-destroy', 'spin', 'mode=busy'));
    await sleep(100);
    d.pause();
    const e = ended(d);
    d.destroy();
    t.equal((await e).kind, 'destroyed');
    t.equal(d.state, 'dead');
  });

  t.test('a bad image leaves no domain behind', async (t) => {
    const bad = { ...config('bad', 'hello'), kernel: new Uint8Array(64) };
    t.throws(() => hv.createDomain(bad), /not an ELF/i);
    t.equal(hv.list().length, 0);
  });
});
