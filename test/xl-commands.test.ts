// xl-commands.test.ts: the xl commands a Xen user reaches for — list (Domain-0 row, CPU time, NAME
// filter, -l), uptime, reboot, mem-max, vcpu-pin/vcpu-list and block-list — against real daemons.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';
import { pvkvm } from './helpers/run-guest.ts';

t.test('every new command has its own --help', async (t) => {
  for (const cmd of ['reboot', 'uptime', 'mem-max', 'vcpu-pin', 'vcpu-list', 'block-list', 'list']) {
    const r = await pvkvm([cmd, '--help']);
    t.equal(r.code, 0, cmd);
    t.match(r.stdout, new RegExp(`^Usage: pvkvm ${cmd} `), cmd);
  }
  const top = await pvkvm(['--help']);
  for (const cmd of ['reboot', 'uptime', 'mem-max', 'vcpu-pin', 'vcpu-list', 'block-list']) t.match(top.stdout, new RegExp(`pvkvm ${cmd}`));
  t.match((await pvkvm(['list', '--help'])).stdout, /-l, --long[\s\S]*--json/, 'list documents -l and --json');
  const bad = await pvkvm(['vcpu-pin', 'g', '0', '0', '1']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^pvkvm: vcpu-pin: soft affinity is not supported/);
});

t.test('list, uptime, mem-max, vcpu-pin, vcpu-list, block-list and reboot', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const img = join(d.runDir, 'disk.img');
  writeFileSync(img, Buffer.alloc(64 * 1024));
  const cfg = join(d.runDir, 'spin.cfg');
  writeFileSync(cfg, `name = "spinner"\nkernel = "${join(import.meta.dirname, '..', 'dist', 'guests', 'spin.elf')}"\n` +
    `memory = 32\nmaxmem = 40\nvcpus = 2\ncmdline = "mode=busy"\ndisk = [ '${img},raw,xvda,rw' ]\n`);
  t.equal((await d.cli(['create', cfg])).code, 0);

  const l = await d.cli(['list']);
  t.equal(l.code, 0, l.stderr);
  const lines = l.stdout.trimEnd().split('\n');
  t.match(lines[0], /^Name\s+ID\s+Mem\s+VCPUs\s+State\s+Time\(s\)$/);
  t.match(lines[1], /^Domain-0\s+0\s+\d+\s+1\s+running\s+[\d.]+$/, 'Domain-0 first');
  // VCPUs counts the vCPUs that are up, as xl list: spin never brings its second one up.
  t.match(lines[2], /^spinner\s+\d+\s+32\s+1\s+\S+\s+[\d.]+$/);
  // A busy guest accumulates CPU time on its vCPU threads (not its uptime).
  const busy = await eventually(async () => {
    const j = JSON.parse((await d.cli(['list', '--json'])).stdout) as Array<{ cpu_time_s: number; uptime_s: number }>;
    return j[0]!.cpu_time_s > 0 ? j[0] : undefined;
  }, 30_000);
  t.ok(busy, `CPU time ${busy?.cpu_time_s} s`);
  const one = await d.cli(['list', 'spinner']);
  t.equal(one.stdout.trimEnd().split('\n').length, 2, 'list NAME shows that domain only');
  t.match(one.stdout, /spinner/);
  t.match((await d.cli(['list', '0'])).stdout, /Domain-0/);
  const none = await d.cli(['list', 'nope']);
  t.equal(none.code, 1);
  t.equal(none.stderr, "pvkvm: list: no domain 'nope'\n");
  const long = JSON.parse((await d.cli(['list', '-l', 'spinner'])).stdout) as Array<Record<string, unknown>>;
  t.equal(long.length, 1);
  t.equal(long[0]!.name, 'spinner');
  t.match(long[0]!.uuid, /^[0-9a-f-]{36}$/);

  const up = await d.cli(['uptime']);
  t.match(up.stdout, /^Name\s+ID Uptime\nDomain-0\s+0 \d+:\d\d:\d\d\nspinner\s+\d+ \d+:\d\d:\d\d\n$/);

  const mm = await d.cli(['mem-max', 'spinner', '36']);
  t.equal(mm.code, 0, mm.stderr);
  t.equal(mm.stdout, `domain spinner: maximum memory ${36 * 1024} KiB\n`);
  t.match((await d.cli(['mem-set', 'spinner', '38'])).stderr, /between 2 and 36 MiB/, 'mem-set is held to mem-max');
  t.match((await d.cli(['mem-max', 'spinner', '41'])).stderr, /between 32 \(the current target\) and 40 MiB/);

  const pin = await d.cli(['vcpu-pin', 'spinner', 'all', '0']);
  t.equal(pin.code, 0, pin.stderr);
  t.equal(pin.stdout, 'domain spinner: vCPU 0 on CPUs 0\ndomain spinner: vCPU 1 on CPUs 0\n');
  t.match((await d.cli(['vcpu-list', 'spinner'])).stdout, /spinner\s+\d+\s+0\s+online\s+[\d.]+\s+0\nspinner\s+\d+\s+1\s+offline\s+[\d.]+\s+0\n/);
  t.match((await d.cli(['vcpu-pin', 'spinner', '1', 'all'])).stdout, /vCPU 1 on CPUs 0-/);
  const badCpu = await d.cli(['vcpu-pin', 'spinner', '0', '4000']);
  t.equal(badCpu.code, 2);
  t.match(badCpu.stderr, /^pvkvm: vcpu-pin: CPU 4000 is beyond 1023\n$/);
  t.match((await d.cli(['vcpu-pin', 'spinner', '5', '0'])).stderr, /spinner has vCPUs 0\.\.1/);

  const bl = await d.cli(['block-list', 'spinner']);
  t.equal(bl.code, 0, bl.stderr);
  t.match(bl.stdout, /^Vdev\s+BE\s+handle\s+state\s+evt-ch\s+ring-ref\s+access\s+target\s+BE-path\n51712\s+0\s+xvda\s+\S+\s+\S+\s+\S+\s+rw\s+.*disk\.img\s+\/local\/domain\/0\/backend\/vbd\/\d+\/51712\n$/);
  const blj = JSON.parse((await d.cli(['block-list', 'spinner', '--json'])).stdout) as Array<Record<string, unknown>>;
  t.equal(blj[0]!.vdev, 'xvda');

  // reboot: the guest is asked through control/shutdown; ctrl-shutdown obeys and on_reboot restarts it.
  const rcfg = d.config('rb', 'ctrl-shutdown', { on_reboot: 'restart' });
  const c = await d.cli(['create', rcfg]);
  const first = Number(/created domain (\d+)/.exec(c.stdout)![1]);
  const rb = await d.cli(['reboot', 'rb'], 60_000);
  t.equal(rb.code, 0, rb.stderr);
  t.equal(rb.stdout, 'domain rb shut down: reboot\n');
  const again = await eventually(() => {
    const ids = [...readFileSync(join(d.runDir, 'dom0.log'), 'utf8').matchAll(/created domain (\d+) \(rb\)/g)].map((m) => Number(m[1]));
    return ids.find((id) => id !== first);
  });
  t.ok(again, `rebooted as domain ${again}`);
});
