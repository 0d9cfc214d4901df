// vcpu-hotplug.test.ts: pvkvm vcpu-set against a real guest (maxvcpus = 3, vcpus = 2) — the SDK's
// cpu watch takes vCPU 1 offline (it stops counting and the hypervisor has it down), then brings
// it back and vCPU 2 up for the first time; list/info/vcpu-list follow; mistakes are one line.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually, type TestDaemons } from './helpers/daemons.ts';
import { pvkvm } from './helpers/run-guest.ts';

t.test('vcpu-set: help and argument errors', async (t) => {
  const h = await pvkvm(['vcpu-set', '--help']);
  t.equal(h.code, 0);
  t.match(h.stdout, /^Usage: pvkvm vcpu-set DOMAIN N/);
  t.match((await pvkvm(['--help'])).stdout, /pvkvm vcpu-set/);
  for (const args of [['vcpu-set', 'g'], ['vcpu-set', 'g', 'two'], ['vcpu-set', 'g', '0'], ['vcpu-set', 'g', '-1']]) {
    const r = await pvkvm(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, /^pvkvm: vcpu-set: [^\n]+\n$/, args.join(' '));
  }
});

/** vCPU id → online, from vcpu-list's State column. */
async function vcpuStates(d: TestDaemons, name: string): Promise<Map<number, string>> {
  const r = await d.cli(['vcpu-list', name]);
  const out = new Map<number, string>();
  for (const m of r.stdout.matchAll(new RegExp(`^${name}\\s+\\d+\\s+(\\d+)\\s+(online|offline)\\s`, 'gm'))) out.set(Number(m[1]), m[2]!);
  return out;
}

t.test('a guest follows vcpu-set down and up', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const created = await d.cli(['create', d.config('hp', 'vcpuhotplug', { vcpus: 2, maxvcpus: 3 })]);
  t.equal(created.code, 0, created.stderr);
  t.equal(created.stderr, '', 'maxvcpus is no longer warned about');
  const log = join(d.runDir, 'logs', 'console-hp.log');
  const read = (): string => {
    try { return readFileSync(log, 'utf8'); } catch { return ''; }
  };
  const seen = (re: RegExp): Promise<string | undefined> => eventually(() => (re.test(read()) ? read() : undefined), 90_000);
  const states = (want: string): Promise<Map<number, string> | undefined> => eventually(async () => {
    const s = await vcpuStates(d, 'hp');
    return [0, 1, 2].map((v) => s.get(v)).join(',') === want ? s : undefined;
  }, 60_000);

  t.ok(await seen(/vCPU 1 counting/), `vCPU 1 starts online and counts\n${read()}`);
  t.match(read(), /online vCPUs: 0,1 \(mask 0x3\)/, 'the guest starts with vCPUs 0 and 1 (vcpus = 2)');
  t.ok(await states('online,online,offline'), 'vcpu-list: vCPU 2 exists but is down');
  const info = JSON.parse((await d.cli(['info', 'hp'])).stdout) as Record<string, unknown>;
  t.match(info, { vcpus: 2, max_vcpus: 3, online_vcpus: [0, 1] });

  for (const [n, msg] of [['0', /^pvkvm: vcpu-set: N must be a whole number from 1/], ['4', /^pvkvm: hp can have 1\.\.3 vCPUs online \(its maxvcpus is 3\), not 4\n$/]] as const) {
    const r = await d.cli(['vcpu-set', 'hp', n]);
    t.not(r.code, 0, `vcpu-set ${n} is refused`);
    t.match(r.stderr, msg);
  }
  const nosuch = await d.cli(['vcpu-set', 'nosuch', '1']);
  t.equal(nosuch.stderr, "pvkvm: no domain 'nosuch'\n");

  const down = await d.cli(['vcpu-set', 'hp', '1']);
  t.equal(down.code, 0, down.stderr);
  t.equal(down.stdout, 'domain hp: 1 of 3 vCPUs available\n');
  t.ok(await seen(/online vCPUs: 0 \(mask 0x1\)\n/), 'the guest sees vCPU 1 go offline');
  t.ok(await seen(/vCPU 1 stopped at \d+/), 'its counter stops');
  t.ok(await states('online,offline,offline'), 'vcpu-list: the hypervisor has vCPU 1 down');
  const l = await d.cli(['list', 'hp']);
  t.match(l.stdout, /\nhp\s+\d+\s+32\s+1\s/, 'list counts the vCPUs that are up');

  const up = await d.cli(['vcpu-set', 'hp', '3']);
  t.equal(up.code, 0, up.stderr);
  const done = await seen(/Test result: \w+/);
  t.match(done, /online vCPUs: 0,1,2 \(mask 0x7\)\n/, 'the guest sees vCPUs 1 and 2 come online');
  const after = done!.slice(done!.lastIndexOf('mask 0x7'));
  t.match(after, /vCPU 1 counting/, 'vCPU 1 counts again');
  t.match(after, /vCPU 2 counting/, 'vCPU 2 was initialised and counts');
  t.notMatch(done, /FAILED|failed/);
  t.match(done, /Test result: SUCCESS/);
  t.ok(await states('online,online,online'), 'vcpu-list: all three up');
  const info2 = JSON.parse((await d.cli(['info', 'hp'])).stdout) as Record<string, unknown>;
  t.match(info2, { vcpus: 3, max_vcpus: 3, online_vcpus: [0, 1, 2] });

  const sd = await d.cli(['shutdown', 'hp']);
  t.equal(sd.code, 0, sd.stderr);
});
