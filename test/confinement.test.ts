// confinement.test.ts: the daemons confine themselves (docs/confinement.md) — checked from outside
// through /proc (no_new_privs, seccomp mode, capability sets, dom0's own mount namespace) and from
// inside with PVKVM_CONFINE_SELFTEST=1 (each daemon tries what it must not do: dom0 opening
// /dev/kvm, directly or through the hypervisor's /proc files; ptrace, mount, modules, kexec...);
// a guest with a disk and one with a bridged vif still run; `up` reports it, --no-confine turns
// it off. Needs root (the capability checks assume it), /dev/net/tun and iproute2.
import t from 'tap';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmTest, kvmAvailable } from './helpers/kvm.ts';
import { startDaemons, eventually, type TestDaemons } from './helpers/daemons.ts';
import { pvkvm, guestPath } from './helpers/run-guest.ts';
import { hostNetMissing, ip, netConfig, removeQuietly, result, runId, startDomain, vifConnected } from './helpers/net.ts';
import { MiB, imageDir, image, blkworkConfig } from './helpers/blk.ts';
import { readConfinement } from '../host/confine-status.ts';
import { capabilityMask } from '../host/capabilities.ts';
import { HYPERVISOR_CONFINEMENT } from '../hypervisor/daemon/confinement-policy.ts';
import { DOM0_CONFINEMENT } from '../dom0/confinement-policy.ts';

type Kind = 'hypervisor' | 'dom0';
const SELFTEST = { PVKVM_CONFINE_SELFTEST: '1' };

function log(runDir: string, kind: Kind): string {
  return readFileSync(join(runDir, `${kind}.log`), 'utf8');
}

/** The daemon's `confinement self-test: {...}` line, once it has written it. */
async function selftest(runDir: string, kind: Kind): Promise<Record<string, string>> {
  const line = await eventually(() => /confinement self-test: (\{.*\})$/m.exec(log(runDir, kind))?.[1], 30_000);
  if (line === undefined) throw new Error(`${kind} wrote no self-test line:\n${log(runDir, kind)}`);
  return JSON.parse(line) as Record<string, string>;
}

const REFUSED_TO_BOTH = ['ptrace', 'process_vm_readv', 'mount', 'init_module', 'kexec_load', 'bpf', 'personality',
  'setns', 'unshare(CLONE_NEWUSER)', 'mknod kvm'];

t.test('both daemons are confined, as /proc and their own attempts show', kvmTest(), async (t) => {
  const d = await startDaemons({ env: SELFTEST });
  t.teardown(() => d.down());
  const policies = { hypervisor: HYPERVISOR_CONFINEMENT, dom0: DOM0_CONFINEMENT };
  for (const kind of ['hypervisor', 'dom0'] as const) {
    const s = readConfinement(d.pid(kind));
    t.equal(s.noNewPrivs, true, `${kind}: NoNewPrivs: 1`);
    t.equal(s.seccomp, 2, `${kind}: Seccomp: 2 (filter)`);
    const keep = capabilityMask(policies[kind].keepCapabilities);
    t.equal(s.capBnd.toString(16), keep.toString(16), `${kind}: CapBnd holds only ${policies[kind].keepCapabilities.join(', ')}`);
    t.equal(s.capEff.toString(16), keep.toString(16), `${kind}: and so does CapEff`);
    t.equal(s.ownMountNamespace, kind === 'dom0', `${kind}: ${kind === 'dom0' ? 'a mount namespace of its own' : 'the host mount namespace'}`);
    const line = /confinement: .*$/m.exec(log(d.runDir, kind))?.[0] ?? '';
    t.match(line, /no_new_privs; .*seccomp/, `${kind} logged what it applied`);
    t.notMatch(line, /NOT applied/, `${kind}: nothing left out`);
  }

  const hv = await selftest(d.runDir, 'hypervisor');
  const d0 = await selftest(d.runDir, 'dom0');
  for (const probe of REFUSED_TO_BOTH) {
    t.equal(hv[probe], 'EPERM', `hypervisor: ${probe} refused`);
    t.equal(d0[probe], 'EPERM', `dom0: ${probe} refused`);
  }
  t.equal(hv.execve, 'EPERM', 'the hypervisor starts no program');
  t.equal(d0.execve, 'EFAULT', 'dom0 may (it runs ip): only the null path failed');
  t.equal(hv['open /dev/kvm'], kvmAvailable() ? 'ok' : 'ENOENT', 'the hypervisor opens /dev/kvm');
  t.equal(d0['open /dev/kvm'], kvmAvailable() ? 'EACCES' : 'ENOENT', 'dom0 cannot');
  t.equal(d0['open /proc/OTHER/fd/*'], 'EACCES', "dom0 cannot reopen the hypervisor's descriptors (/dev/kvm, guest memory)");
  t.equal(d0['open /proc/OTHER/mem'], 'EACCES', "nor read the hypervisor's memory");
  t.equal(d0['open /proc/OTHER/root/dev/kvm'], kvmAvailable() ? 'EACCES' : 'ENOENT', "nor reach /dev/kvm through the hypervisor's root");
});

t.test('confined daemons still run a guest with a disk and one with a bridged vif', kvmTest(), async (t) => {
  const missing = hostNetMissing();
  if (missing !== null) {
    if (process.env.CI === 'true') t.fail(`host networking: ${missing}`);
    else t.comment(`skipped: host networking: ${missing}`);
    return;
  }
  const id = runId();
  const NS = `pvkcn${id}`;
  const BR = `pvkcb${id}`;
  ip('netns', 'add', NS);
  t.teardown(() => removeQuietly('netns', NS));
  ip('-n', NS, 'link', 'add', BR, 'type', 'bridge');
  ip('-n', NS, 'link', 'set', BR, 'up');
  const { dir, cleanup } = imageDir();
  t.teardown(cleanup);
  const d: TestDaemons = await startDaemons({ netns: NS });
  t.teardown(() => d.down());
  t.equal(readConfinement(d.pid('dom0')).seccomp, 2, 'dom0 is confined (started through ip netns exec)');

  const disk = image(dir, 'confined.img', 8 * MiB);
  const cfg = blkworkConfig(d.runDir, 'disky', disk, 'mode=random size=4M bs=4096 qd=8 ops=100 seed=7');
  const created = await d.cli(['create', cfg]);
  t.equal(created.code, 0, created.stderr);

  const net = startDomain(d, 'netty', netConfig(d, 'netty', 'mode=responder ip=10.213.0.2 duration=30', [`bridge=${BR}`]));
  const vif = await vifConnected(d, 'netty');
  t.ok(vif, 'the vif connected');
  const link = ip('-n', NS, '-o', 'link', 'show', 'dev', vif?.tap ?? 'none');
  t.match(link, new RegExp(`master ${BR}`), "dom0's `ip` put the TAP on the bridge");

  const done = await eventually(async () => {
    const l = JSON.parse((await d.cli(['list', '--json'])).stdout) as { name: string }[];
    return l.some((x) => x.name === 'disky') ? undefined : true;
  }, 180_000);
  t.ok(done, 'the disk guest finished');
  t.match(readFileSync(join(d.runDir, 'logs', 'console-disky.log'), 'utf8'), /Test result: SUCCESS/, 'and verified its disk');
  await d.cli(['destroy', 'netty']);
  const end = await net.ended;
  t.not(result(end.stdout), 'FAILURE', 'the vif guest did not fail');
});

t.test('`up` reports confinement; --no-confine turns it off', kvmTest(), async (t) => {
  for (const off of [false, true]) {
    const runDir = mkdtempSync(join(tmpdir(), 'pvkvm-confine-'));
    const env = { PVKVM_RUN_DIR: runDir, ...SELFTEST };
    const up = await pvkvm(['up', ...(off ? ['--no-confine'] : [])], { env, killAfterMs: 60_000 });
    t.equal(up.code, 0, up.stderr);
    if (!off) {
      t.match(up.stdout, /^pvkvm: hypervisor \(pid \d+\): seccomp, no_new_privs, capabilities: dac_override$/m, 'up: the hypervisor');
      t.match(up.stdout, /^pvkvm: dom0 \(pid \d+\): seccomp, no_new_privs, own mount namespace, capabilities: dac_override, net_admin$/m, 'up: dom0');
    } else {
      t.match(up.stdout, /^pvkvm: dom0 \(pid \d+\): NO seccomp, NO no_new_privs, capabilities: \d+ of them$/m, 'up says dom0 is not confined');
      t.match(log(runDir, 'dom0'), /confinement: off/, 'dom0 logged it');
      const d0 = await selftest(runDir, 'dom0');
      t.equal(d0['open /dev/kvm'], kvmAvailable() ? 'ok' : 'ENOENT', 'unconfined, dom0 could open /dev/kvm');
      t.equal(d0.personality, 'ok', 'and nothing is refused');
    }
    const down = await pvkvm(['down'], { env, killAfterMs: 60_000 });
    t.equal(down.code, 0, down.stderr);
    rmSync(runDir, { recursive: true, force: true });
  }
});

t.test('a guest kernel path still works for pvkvm run (private confined daemons)', kvmTest(), async (t) => {
  const r = await pvkvm(['run', guestPath('hello')], { killAfterMs: 120_000 });
  t.equal(r.code, 0, r.stderr);
});
