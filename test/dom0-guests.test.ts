// dom0-guests.test.ts: SDK guests against the real daemons — a guest's xenstore session (its own
// paths, writes, watches, a value from dom0), `pvkvm shutdown` through control/shutdown, and the
// PV console both ways through `pvkvm console` under a pseudo-terminal.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';
import { XsSocketClient, XsReplyError } from './helpers/xs-client.ts';
import { PVKVM, cleanEnv } from './helpers/run-guest.ts';

function domidOf(stdout: string): number {
  return Number(/created domain (\d+)/.exec(stdout)![1]);
}

t.test('a guest uses xenstore: its paths, writes, watches and a value from dom0', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const xs = await XsSocketClient.connect(join(d.runDir, 'xenstored.sock'));
  t.teardown(() => xs.close());
  const c = await d.cli(['create', d.config('xsguest', 'xenstore')]);
  t.equal(c.code, 0, c.stderr);
  const home = `/local/domain/${domidOf(c.stdout)}`;
  const ready = await eventually(async () => (await xs.read(`${home}/data/ready`).catch(() => undefined)));
  t.equal(ready, '1', 'the guest wrote data/ready');
  await xs.write(`${home}/data/from-dom0`, 'greetings-from-the-test');
  const echo = await eventually(async () => (await xs.read(`${home}/data/echo`).catch(() => undefined)));
  t.equal(echo, 'greetings-from-the-test', 'the guest saw the watch fire and echoed the value');
  await xs.write(`${home}/data/done`, '1'); // the guest waits for this before it powers off
  const log = await eventually(async () => {
    const r = await d.cli(['list', '--json']);
    return (JSON.parse(r.stdout) as unknown[]).length === 0 ? true : undefined;
  });
  t.ok(log, 'the guest powered off');
  t.equal(await xs.read(`${home}/data/echo`).catch((e: XsReplyError) => e.code), 'ENOENT', 'its nodes are gone');
});

t.test('pvkvm shutdown asks the guest through control/shutdown', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  t.equal((await d.cli(['create', d.config('polite', 'ctrl-shutdown')])).code, 0);
  const xs = await XsSocketClient.connect(join(d.runDir, 'xenstored.sock'));
  t.teardown(() => xs.close());
  // Wait until the guest has advertised the feature (it is then watching control/shutdown).
  const domid = (JSON.parse((await d.cli(['list', '--json'])).stdout) as { domid: number }[])[0]!.domid;
  t.ok(await eventually(async () => ((await xs.read(`/local/domain/${domid}/control/feature-poweroff`).catch(() => '')) === '1' ? true : undefined)));
  const r = await d.cli(['shutdown', 'polite']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'domain polite shut down: poweroff', 'the guest powered itself off');

  // A guest that ignores the request is destroyed after the timeout.
  t.equal((await d.cli(['create', d.config('deaf', 'spin')])).code, 0);
  const r2 = await d.cli(['shutdown', 'deaf', '--timeout', '1']);
  t.equal(r2.code, 0, r2.stderr);
  t.match(r2.stdout, /domain deaf destroyed/);
});

/** Run `pvkvm console NAME` under a pty (util-linux `script`), feeding `input` chunks in turn. */
function consoleUnderPty(runDir: string, name: string, steps: { waitFor: RegExp; send: string }[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(PVKVM)} console ${name}`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      env: { ...cleanEnv(), PVKVM_RUN_DIR: runDir }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let step = 0;
    const advance = (): void => {
      while (step < steps.length && steps[step]!.waitFor.test(out)) {
        child.stdin.write(steps[step]!.send);
        step++;
      }
    };
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); advance(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => { clearTimeout(killer); resolve({ code, out }); });
    advance();
  });
}

/** util-linux `script` gives `pvkvm console` a real terminal; outside CI its absence skips. */
const NO_SCRIPT = spawnSync('script', ['--version']).error !== undefined && process.env.CI !== 'true'
  ? 'util-linux script is not installed' : false;

t.test('pvkvm console: output and input both ways under a pty, Ctrl-] detaches', { skip: kvmTest().skip || NO_SCRIPT }, async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  t.equal((await d.cli(['create', d.config('echo', 'console-echo')])).code, 0);

  // Attach, type a line, detach with Ctrl-]: the guest keeps running.
  const first = await consoleUnderPty(d.runDir, 'echo', [
    { waitFor: /echo ready/, send: 'hello pty\r' },
    { waitFor: /got: hello pty/, send: '\x1d' },
  ]);
  t.equal(first.code, 0, 'detached cleanly');
  t.match(first.out, /echo ready/, 'earlier output is replayed on attach');
  t.match(first.out, /got: hello pty/, 'input reached the guest and its answer came back');
  const l = JSON.parse((await d.cli(['list', '--json'])).stdout) as { name: string }[];
  t.same(l.map((x) => x.name), ['echo'], 'still running after detach');

  // Attach again and end it from inside.
  const second = await consoleUnderPty(d.runDir, 'echo', [
    { waitFor: /got: hello pty/, send: 'second\r' },
    { waitFor: /got: second/, send: 'quit\r' },
  ]);
  t.equal(second.code, 0);
  t.match(second.out, /bye/);
  t.match(second.out, /domain echo shut down: poweroff/);
});
