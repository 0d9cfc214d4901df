// xl-behaviour.test.ts: the toolstack behaves as a Xen user expects where things go wrong — Ctrl-C
// on `run`, `shutdown --no-wait`, `up` over a dead-but-unreaped dom0, restart loops, an unusable
// run directory, what `down` says, and hints for disk-spec and disk-image mistakes.
import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';
import { pvkvm, guestPath, cleanEnv, PVKVM } from './helpers/run-guest.ts';

/** Processes whose command line mentions `text` (daemons left behind by a run). */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text)) found.push(Number(p));
    } catch { /* gone */ }
  }
  return found;
}

t.test('Ctrl-C on run destroys the domain, stops the daemons and exits 130 with one line', kvmTest(), async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'pvkvm-sigint-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  // A process group of its own, signalled as a whole: what a terminal's Ctrl-C does.
  const child = spawn(process.execPath, [PVKVM, 'run', guestPath('spin')], {
    stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...cleanEnv(), TMPDIR: tmp },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const killer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 60_000);
  t.ok(await eventually(() => (stdout.includes('spinning') ? true : undefined), 50_000), 'the guest runs');
  process.kill(-child.pid!, 'SIGINT');
  const code = await exited;
  clearTimeout(killer);
  t.equal(code, 130, stderr);
  t.match(stderr, /^pvkvm: interrupted \(SIGINT\): domain \d+ \(spin\) destroyed\n$/, 'one line');
  t.same(readdirSync(tmp), [], 'the private run directory is gone');
  t.same(processesMentioning(tmp), [], 'no daemon is left');
});

t.test('shutdown --no-wait returns once the request is written', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  t.equal((await d.cli(['create', d.config('spin', 'spin')])).code, 0);
  // spin ignores control/shutdown: a waiting shutdown would last the whole 300 s --timeout.
  const r = await d.cli(['shutdown', 'spin', '--no-wait', '--timeout', '300'], 30_000);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'domain spin: poweroff requested\n');
  const l = JSON.parse((await d.cli(['list', '--json'])).stdout) as Array<{ name: string }>;
  t.ok(l.some((x) => x.name === 'spin'), 'the domain is still there');
});

t.test('up starts daemons whose pid files name a zombie or another program; down says what it stopped', kvmTest(), async (t) => {
  const runDir = mkdtempSync(join(tmpdir(), 'pvkvm-stale-'));
  const env = { PVKVM_RUN_DIR: runDir };
  t.teardown(async () => {
    await pvkvm(['down'], { env });
    rmSync(runDir, { recursive: true, force: true });
  });
  // A zombie: sh forks a child, then becomes a `sleep` that never reaps it; the child is killed.
  const parent = spawn('sh', ['-c', 'sleep 1000 & echo $!; exec sleep 1000'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => parent.kill('SIGKILL'));
  const zombie = Number(await new Promise<string>((r) => parent.stdout.once('data', (b: Buffer) => r(b.toString().trim()))));
  const procFile = (path: string): string => { try { return readFileSync(path, 'utf8'); } catch { return ''; } };
  // Kill the child only once sh has become `sleep`: sh itself would reap it (a loaded machine
  // once let the kill land between the echo and the exec).
  t.ok(await eventually(() => (procFile(`/proc/${parent.pid}/comm`).trim() === 'sleep' ? true : undefined)), 'sh became sleep');
  process.kill(zombie, 'SIGKILL');
  t.ok(await eventually(() => (/^\d+ \(.*\) Z/.test(procFile(`/proc/${zombie}/stat`)) ? true : undefined)), 'a zombie');
  writeFileSync(join(runDir, 'dom0.pid'), `${zombie}\n`);
  // A reused pid: a live process that is not a pvkvm daemon (this test).
  writeFileSync(join(runDir, 'hypervisor.pid'), `${process.pid}\n`);

  const up = await pvkvm(['up'], { env });
  t.equal(up.code, 0, up.stderr);
  t.match(up.stdout, /daemons running in/);
  t.notMatch(up.stdout, /already running/);
  const cfg = join(runDir, 'g.cfg');
  writeFileSync(cfg, `name = "g"\nkernel = "${guestPath('spin')}"\nmemory = 32\n`);
  t.equal((await pvkvm(['create', cfg], { env })).code, 0);
  const hv = Number(readFileSync(join(runDir, 'hypervisor.pid'), 'utf8'));
  const d0 = Number(readFileSync(join(runDir, 'dom0.pid'), 'utf8'));
  const down = await pvkvm(['down'], { env });
  t.equal(down.code, 0, down.stderr);
  t.equal(down.stdout, `pvkvm: destroyed 1 domain (g); stopped dom0 (pid ${d0}) and the hypervisor (pid ${hv}) in ${runDir}\n`);
  const again = await pvkvm(['down'], { env });
  t.equal(again.stdout, `pvkvm: no daemons running in ${runDir}\n`);
});

t.test('a domain that crashes again soon after its restart is not restarted ("restarted too fast")', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const cfg = d.config('crasher', 'shutdown', { cmdline: 'reason=3', on_crash: 'restart' });
  t.equal((await d.cli(['create', cfg])).code, 0);
  const log = (): string => readFileSync(join(d.runDir, 'dom0.log'), 'utf8');
  t.ok(await eventually(() => (log().includes('restarted too fast') ? true : undefined), 60_000), 'dom0 gives up');
  t.match(log(), /domain crasher restarted too fast \(it ended [\d.]+ s after its last restart, under 10 s\): not restarting it/);
  t.equal(log().match(/created domain \d+ \(crasher\)/g)?.length, 2, 'created once, restarted once');
  const l = JSON.parse((await d.cli(['list', '--json'])).stdout) as Array<{ name: string }>;
  t.notOk(l.some((x) => x.name === 'crasher'), 'and it stays gone');
  t.match((await d.cli(['dmesg'])).stdout, /restarted too fast/, 'the hypervisor console says so too');
});

t.test('an unusable run directory is one error line and exit 1', async (t) => {
  for (const dir of ['/proc/nope', '/proc/nope/deeper', '/dev/null/x']) {
    const r = await pvkvm(['up'], { env: { PVKVM_RUN_DIR: dir }, killAfterMs: 30_000 });
    t.equal(r.code, 1, `${dir}: ${r.stderr}`);
    t.match(r.stderr, new RegExp(`^pvkvm: cannot use run directory ${dir} \\(\\w+\\); set PVKVM_RUN_DIR or --run-dir\\n$`));
  }
  const file = join(mkdtempSync(join(tmpdir(), 'pvkvm-rd-')), 'file');
  writeFileSync(file, '');
  const r = await pvkvm(['up', '--run-dir', file], { killAfterMs: 30_000 });
  t.equal(r.code, 1);
  t.match(r.stderr, /^pvkvm: cannot use run directory .* \((EEXIST|not a directory|ENOTDIR)\)/);
});

t.test('disk mistakes get a hint: a bad field, a size that is not whole sectors, a read-only image', kvmTest(), async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'pvkvm-disk-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const img = (name: string, size: number): string => {
    const p = join(tmp, name);
    writeFileSync(p, Buffer.alloc(size));
    return p;
  };
  const good = img('good.img', 4096);
  const foo = await pvkvm(['run', guestPath('hello'), '--disk', `${good},foo`]);
  t.equal(foo.code, 2);
  t.match(foo.stderr, /^pvkvm: --disk '.*good\.img,foo': format 'foo' is not supported \(only raw; bare fields are target,format,vdev,access in that order\)\n$/);

  const odd = img('odd.img', 1000);
  const r = await pvkvm(['run', guestPath('hello'), '--disk', odd]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^pvkvm: disk xvda: .*odd\.img is 1000 bytes, not a multiple of 512 \(the last 488 bytes would be lost\); pad it with 'truncate -s %512 .*odd\.img'\n$/);
  const tiny = img('tiny.img', 100);
  t.match((await pvkvm(['run', guestPath('hello'), '--disk', tiny])).stderr, /less than one 512-byte sector/);

  // An immutable file refuses a writable open even to root (EPERM), as a read-only image does to a user.
  const locked = img('locked.img', 4096);
  try {
    execFileSync('chattr', ['+i', locked], { stdio: 'ignore' });
  } catch {
    t.comment('chattr +i is not available here: the EPERM hint is not exercised');
    return;
  }
  t.teardown(() => { try { execFileSync('chattr', ['-i', locked], { stdio: 'ignore' }); } catch { /* gone */ } });
  const rw = await pvkvm(['run', guestPath('hello'), '--disk', locked]);
  t.equal(rw.code, 1);
  t.match(rw.stderr, /^pvkvm: .*locked\.img: EPERM; to attach it read-only, add ',ro' \(or access=ro\) to the disk spec\n$/);
  const ro = await pvkvm(['run', guestPath('hello'), '--disk', `${locked},ro`]);
  t.equal(ro.code, 0, ro.stderr);
  t.ok(existsSync(locked));
});
