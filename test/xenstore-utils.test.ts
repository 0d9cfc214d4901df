// xenstore-utils.test.ts: Debian's xenstore-utils (libxenstore) against our daemon's Unix socket.
// Without the tools the test skips visibly; in CI (CI=true) their absence is a failure.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import t, { type Test } from 'tap';
import { startXenstored, type XsHarness } from './helpers/xs-client.ts';

const TOOLS = ['xenstore-write', 'xenstore-read', 'xenstore-ls', 'xenstore-rm', 'xenstore-chmod', 'xenstore-watch', 'xenstore-list', 'xenstore-exists'];

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const missing = TOOLS.filter((c) => !onPath(c));
const inCI = process.env.CI === 'true';
if (missing.length > 0 && inCI) {
  t.fail(`xenstore-utils missing in CI: ${missing.join(', ')} (apt-get install xenstore-utils)`);
}
const skip = missing.length > 0 && !inCI ? `xenstore-utils not installed (missing ${missing.join(', ')})` : false;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a tool against the harness socket, asynchronously (the daemon lives in this process). */
function tool(h: XsHarness, cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, XENSTORED_PATH: h.sockPath }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(t: Test, h: XsHarness, cmd: string, args: string[]): Promise<string> {
  const r = await tool(h, cmd, args);
  t.equal(r.code, 0, `${cmd} ${args.join(' ')} succeeds${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
  return r.stdout;
}

t.test('write, read, list, ls, exists, chmod, rm', { skip }, async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  await ok(t, h, 'xenstore-write', ['/tool/a/b', 'hello world', '/tool/a/c', '2']);
  t.equal(h.xs.local.read('/tool/a/b'), 'hello world');
  t.equal(await ok(t, h, 'xenstore-read', ['/tool/a/b']), 'hello world\n');
  t.equal(await ok(t, h, 'xenstore-list', ['/tool/a']), 'b\nc\n');
  t.equal(await ok(t, h, 'xenstore-ls', ['/tool']), 'a = ""\n b = "hello world"\n c = "2"\n');
  t.equal((await tool(h, 'xenstore-exists', ['/tool/a/b'])).code, 0, 'exists: present');
  t.not((await tool(h, 'xenstore-exists', ['/tool/nope'])).code, 0, 'exists: absent');
  const miss = await tool(h, 'xenstore-read', ['/tool/nope']);
  t.not(miss.code, 0, 'reading a missing node fails');
  await ok(t, h, 'xenstore-chmod', ['/tool/a/b', 'n1', 'r2', 'b3']);
  t.same(h.xs.local.getPerms('/tool/a/b'), [{ id: 1, perm: 'n' }, { id: 2, perm: 'r' }, { id: 3, perm: 'b' }]);
  t.match(await ok(t, h, 'xenstore-ls', ['-p', '/tool/a']), /b = "hello world".*\(n1,r2,b3\)/);
  await ok(t, h, 'xenstore-rm', ['/tool/a']);
  t.equal(h.xs.local.read('/tool/a/c'), null, 'xenstore-rm is recursive');
  await ok(t, h, 'xenstore-write', ['relative', 'r']);
  t.equal(h.xs.local.read('/local/domain/0/relative'), 'r', 'relative paths are dom0\'s');
});

t.test('xenstore-ls on a directory needing DIRECTORY_PART', { skip }, async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const names = Array.from({ length: 300 }, (_, i) => `a-rather-long-child-name-${i}`);
  for (const n of names) h.xs.local.write(`/big/${n}`, '');
  const out = await ok(t, h, 'xenstore-list', ['/big']);
  t.same(out.trim().split('\n'), names, 'the whole list arrives');
});

t.test('xenstore-watch prints events until killed, or exits after -n', { skip }, async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const child = spawn('xenstore-watch', ['/w'], { env: { ...process.env, XENSTORED_PATH: h.sockPath }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  let out = '';
  const waitFor = (line: string) => new Promise<void>((resolve, reject) => {
    const check = () => {
      if (out.split('\n').includes(line)) {
        child.stdout.off('data', onData);
        clearTimeout(timer);
        resolve();
      }
    };
    const onData = (d: Buffer) => { out += d; check(); };
    const timer = setTimeout(() => reject(new Error(`xenstore-watch never printed ${line}; got ${JSON.stringify(out)}`)), 20_000);
    child.stdout.on('data', onData);
    check();
  });
  await waitFor('/w');
  t.pass('the immediate event');
  h.xs.local.write('/w/x/y', '1');
  await waitFor('/w/x/y');
  t.pass('an event for a write below the watch');
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.kill('SIGTERM');
  await exited;
  t.pass('ends when killed');

  // -n 2: the immediate event plus one write. Keep writing until it exits, whenever it registers.
  const limited = tool(h, 'xenstore-watch', ['-n', '2', '/v']);
  let done = false;
  void limited.then(() => { done = true; });
  for (let i = 0; !done && i < 200; i++) {
    h.xs.local.write('/v', String(i));
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await limited;
  t.equal(r.code, 0, 'xenstore-watch -n 2 exits by itself');
  t.same(r.stdout.trim().split('\n'), ['/v', '/v'], 'after two events');
});
