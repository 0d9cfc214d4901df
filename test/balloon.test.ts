// balloon.test.ts: ballooning end to end — `pvkvm mem-set` lowers memory/target, the balloon guest
// gives frames back with XENMEM_decrease_reservation, and the memory really returns to the host
// (the hypervisor daemon's resident set drops), then populate_physmap takes it back.
import t from 'tap';
import { readFileSync, existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually, processRssKiB } from './helpers/daemons.ts';
import { XsSocketClient } from './helpers/xs-client.ts';
import { runDirPath } from '../abi/run-dir.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';

/** Memory the host holds for a domain's guest memory file (its allocated blocks), found among the hypervisor's fds. */
function guestMemoryKiB(pid: number, name: string): number {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try { target = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
    if (target.startsWith(`/memfd:pvkvm-${name} `)) return (statSync(`/proc/${pid}/fd/${fd}`).blocks * 512) / 1024;
  }
  throw new Error(`no guest memory file for ${name}`);
}

t.test('mem-set makes a ballooning guest give memory back to the host', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const created = await d.cli(['create', d.config('balloon', 'balloon', { memory: 64 })]);
  t.equal(created.code, 0, created.stderr);
  const domid = /created domain (\d+)/.exec(created.stdout)![1];
  const log = join(d.runDir, 'logs', 'console-balloon.log');
  const consoleText = (): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  t.ok(await eventually(() => (consoleText().includes('balloon: filled') ? true : undefined), 120_000), 'the guest filled 16 MiB');
  const hv = d.pid('hypervisor');
  const before = { rss: processRssKiB(hv), file: guestMemoryKiB(hv, 'balloon') };

  const bad = await d.cli(['mem-set', 'balloon', '65']);
  t.not(bad.code, 0, 'a target above the domain\'s memory is refused');
  t.match(bad.stderr, /^pvkvm: memory must be between/);
  const set = await d.cli(['mem-set', 'balloon', '52']);
  t.equal(set.code, 0, set.stderr);
  t.match(set.stdout, /memory target 53248 KiB/);

  const xs = await XsSocketClient.connect(runDirPath(d.runDir, 'xenstoredSocket'));
  t.teardown(() => xs.close());
  const released = await eventually(async () => ((await xs.read(`/local/domain/${domid}/data/balloon`).catch(() => '')) === 'released' ? true : undefined), 120_000);
  t.ok(released, 'the guest gave 12 MiB back');
  const after = { rss: processRssKiB(hv), file: guestMemoryKiB(hv, 'balloon') };
  t.match(consoleText(), /balloon: released 3072 pages/);
  // 12 MiB were released; the guest may touch a few other pages (stack, rings) meanwhile.
  t.ok(before.file - after.file >= 11 * 1024, `the guest memory file holds ${before.file - after.file} KiB less (12 MiB released)`);
  t.comment(`hypervisor resident set: ${before.rss} → ${after.rss} KiB`);

  await xs.write(`/local/domain/${domid}/data/refill`, 'go');
  t.ok(await eventually(() => (/Test result: (SUCCESS|FAILURE)/.test(consoleText()) ? true : undefined), 120_000), 'the guest finished');
  t.match(consoleText(), /balloon: repopulated 3072 pages/);
  t.match(consoleText(), /Test result: SUCCESS/, consoleText());
  t.match(consoleText(), /balloon: at CPL 3/, 'ballooning from CPL 3, through the SDK kernel\'s checks');
});

t.test('a frame given back is unreachable: at CPL 3 the access ends the domain with a report', kvmTest(), async (t) => {
  const r = await runGuest('balloon', ['--cmdline', 'touch=1']);
  const out = `${r.stdout}\n${r.stderr}`;
  t.match(r.stdout, /balloon: at CPL 3/);
  t.match(r.stdout, /reading frame 0x1000 after giving it back/, out);
  t.notMatch(out, /read 0x[0-9a-f]+ from a released frame/, 'no data came back');
  t.match(out, /faulted on vCPU 0 at rip 0x[0-9a-f]+: ballooned-frame \(.*XENMEM_decrease_reservation.*\)/, 'the report names the cause');
  t.not(r.code, 0);
});

t.test('a frame given back is unreachable: CPL-0 (emulated) code reads all-ones, as Xen answers for a missing p2m entry', kvmTest(), async (t) => {
  const r = await runGuest('balloon', ['--cmdline', 'touch=1 sdk.mode=kernel']);
  const out = `${r.stdout}\n${r.stderr}`;
  t.match(r.stdout, /balloon: at CPL 0/);
  t.match(r.stdout, /read 0xffffffffffffffff from a released frame/, out);
  t.equal(testResult(r.stdout), 'SUCCESS', out);
});
