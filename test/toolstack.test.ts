// toolstack.test.ts: the daemons and the xl-like CLI — up, create from a config, list, info,
// pause/unpause, destroy, unique names, one-line errors, on_reboot, down.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually, type TestDaemons } from './helpers/daemons.ts';
import { pvkvm } from './helpers/run-guest.ts';

interface ListEntry { name: string; domid: number; state: string; vcpus: number; memory_mib: number }

async function list(d: TestDaemons): Promise<ListEntry[]> {
  const r = await d.cli(['list', '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as ListEntry[];
}

t.test('toolstack commands', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());

  t.same(await list(d), [], 'no domains after up');
  const again = await d.cli(['up']);
  t.equal(again.code, 0, 'a second up is harmless');
  t.match(again.stdout, /already running/);

  const cfg = d.config('spinner', 'spin', { vcpus: 2 });
  const created = await d.cli(['create', cfg]);
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, /created domain \d+ \(spinner\)/);

  const l = await list(d);
  t.equal(l.length, 1);
  t.match(l[0], { name: 'spinner', state: 'running', vcpus: 2, memory_mib: 32 });

  const dup = await d.cli(['create', cfg]);
  t.equal(dup.code, 1, 'duplicate names are refused');
  t.equal(dup.stderr.trim(), "pvkvm: a domain named 'spinner' already exists");

  const info = await d.cli(['info', 'spinner']);
  t.equal(info.code, 0);
  const parsed = JSON.parse(info.stdout) as Record<string, unknown>;
  t.match(parsed, { name: 'spinner', vcpus: 2, memory_mib: 32, state: 'running' });
  t.type(parsed.uptime_s, 'number');
  t.ok((parsed.exits as Record<string, number>).hypercall > 0, 'exits are counted live, by kind');

  t.equal((await d.cli(['pause', 'spinner'])).code, 0);
  t.equal((await list(d))[0]!.state, 'paused', 'paused');
  t.equal((await d.cli(['unpause', String(l[0]!.domid)])).code, 0, 'by domid');
  t.equal((await list(d))[0]!.state, 'running', 'running again');

  const missing = await d.cli(['pause', 'nosuch']);
  t.equal(missing.code, 1);
  t.equal(missing.stderr.trim(), "pvkvm: no domain 'nosuch'");

  const destroyed = await d.cli(['destroy', 'spinner']);
  t.equal(destroyed.code, 0, destroyed.stderr);
  t.same(await list(d), [], 'gone after destroy');

  // A guest that reboots comes back under on_reboot = "restart", with a new domain id.
  const rb = d.config('rebooter', 'shutdown', { cmdline: 'reason=1', on_reboot: 'restart' });
  const r1 = await d.cli(['create', rb]);
  t.equal(r1.code, 0, r1.stderr);
  const firstId = Number(/created domain (\d+)/.exec(r1.stdout)![1]);
  // It reboots at once again, so the restarted domain may be gone already ("restarted too fast"):
  // dom0's log records the restart.
  const restarted = await eventually(() => {
    const ids = [...readFileSync(join(d.runDir, 'dom0.log'), 'utf8').matchAll(/created domain (\d+) \(rebooter\)/g)].map((m) => Number(m[1]));
    return ids.find((id) => id !== firstId);
  });
  t.ok(restarted, 'restarted with a new domid');
  // Stop the reboot loop (dom0 also stops it after one fast restart).
  writeFileSync(rb, `name = "rebooter"\n`);
  await d.cli(['destroy', 'rebooter']);
});

t.test('one-line errors for configs and missing daemons', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const bad = join(d.runDir, 'bad.cfg');
  writeFileSync(bad, 'name = "x"\nkernel = "/nonexistent"\nmemory = lots\n');
  const r = await d.cli(['create', bad]);
  t.equal(r.code, 1);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  t.match(r.stderr, /bad\.cfg:3:/, 'names file and line');

  const noKernel = join(d.runDir, 'nokernel.cfg');
  writeFileSync(noKernel, 'name = "x"\nkernel = "/nonexistent/k.elf"\n');
  const r2 = await d.cli(['create', noKernel]);
  t.equal(r2.code, 1);
  t.equal(r2.stderr.trim(), 'pvkvm: /nonexistent/k.elf: cannot read kernel (ENOENT)');

  const notElf = join(d.runDir, 'notelf.cfg');
  writeFileSync(notElf, `name = "x"\nkernel = "${notElf}"\n`);
  const r3 = await d.cli(['create', notElf]);
  t.equal(r3.code, 1);
  t.match(r3.stderr.trim(), /^pvkvm: notelf\.cfg: not an ELF file/);

  const none = await pvkvm(['list'], { env: { PVKVM_RUN_DIR: join(d.runDir, 'nowhere') } });
  t.equal(none.code, 1);
  t.match(none.stderr.trim(), /^pvkvm: cannot reach dom0 in .*; start the daemons with 'pvkvm up'$/);
});
