// sdk-outside.test.ts: both SDKs used from outside the repository, as an installed package would
// be — a third-party backend module in a temp dir, importing 'pvkvm/backend-sdk' by name, loaded
// by dom0 from `pvkvm up --backend TYPE=MODULE`, answering a mock frontend over xenstore; and a
// hello guest built in a temp dir with only `pvkvm sdk build`/cflags/ldflags, run with `pvkvm run`.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { pvkvm } from './helpers/run-guest.ts';
import { eventually } from './helpers/daemons.ts';
import { XsSocketClient } from './helpers/xs-client.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** A directory outside the tree where `pvkvm` is installed (node_modules/pvkvm → this package). */
function outside(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-outside-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'pvkvm'));
  return dir;
}

const BACKEND = `// A made-up device type served by a backend outside pvkvm's tree.
import { watchBackends, XenbusState } from 'pvkvm/backend-sdk';

export function start(ctx, { type, backDomid, log }) {
  const unwatchers = [];
  const stop = watchBackends(ctx.store, backDomid, type, (domid, devid, be) => {
    const fe = ctx.store.read(be + '/frontend');
    ctx.store.write(be + '/greeting', 'hello from a third-party backend');
    ctx.store.write(be + '/state', String(XenbusState.InitWait));
    // Connected once the frontend says Initialised.
    unwatchers.push(ctx.store.watch(fe + '/state', () => {
      if (ctx.store.read(fe + '/state') === String(XenbusState.Initialised)) ctx.store.write(be + '/state', String(XenbusState.Connected));
    }));
    log('serving ' + type + ' ' + domid + '/' + devid);
  }, () => undefined);
  return { close() { stop(); for (const u of unwatchers) u(); } };
}
`;

t.test('up --backend: bad specs are one line', async (t) => {
  const env = { PVKVM_RUN_DIR: mkdtempSync(join(tmpdir(), 'pvkvm-test-')) };
  t.teardown(() => rmSync(env.PVKVM_RUN_DIR, { recursive: true, force: true }));
  for (const [spec, re] of [['nomodule', /TYPE=MODULE/], ['vbd=/etc/hostname', /dom0's own/], ['x=/no/such.mjs', /does not exist/]] as const) {
    const r = await pvkvm(['up', '--backend', spec], { env });
    t.equal(r.code, 2, spec);
    t.match(r.stderr, re, spec);
    t.equal(r.stderr.split('\n').length, 2, 'one line');
  }
});

t.test('dom0 loads a third-party backend that imports the SDK by package name', kvmTest(), async (t) => {
  const dir = outside(t);
  const mod = join(dir, 'mydev-backend.mjs');
  writeFileSync(mod, BACKEND);
  const runDir = mkdtempSync(join(tmpdir(), 'pvkvm-test-'));
  const env = { PVKVM_RUN_DIR: runDir };
  const up = await pvkvm(['up', '--backend', `mydev=${mod}`], { env });
  t.teardown(async () => {
    await pvkvm(['down'], { env });
    rmSync(runDir, { recursive: true, force: true });
  });
  t.equal(up.code, 0, up.stderr);
  t.same(JSON.parse(readFileSync(join(runDir, 'backends.json'), 'utf8')), [{ type: 'mydev', module: mod }]);

  // A mock frontend: the device pair a toolstack would write, for a made-up domain 7.
  const xs = await XsSocketClient.connect(join(runDir, 'xenstored.sock'));
  t.teardown(() => xs.close());
  const fe = '/local/domain/7/device/mydev/0';
  const be = '/local/domain/0/backend/mydev/7/0';
  for (const [k, v] of [[`${fe}/backend`, be], [`${fe}/backend-id`, '0'], [`${fe}/state`, '1'], [`${be}/frontend`, fe],
    [`${be}/frontend-id`, '7'], [`${be}/state`, '1']]) await xs.write(k, v);
  const read = async (p: string): Promise<string | null> => xs.read(p).catch(() => null);
  t.ok(await eventually(async () => ((await read(`${be}/state`)) === '2' ? true : undefined)), 'backend reached InitWait');
  t.equal(await read(`${be}/greeting`), 'hello from a third-party backend');
  await xs.write(`${fe}/state`, '3');
  t.ok(await eventually(async () => ((await read(`${be}/state`)) === '4' ? true : undefined)), 'backend Connected');
  const log = readFileSync(join(runDir, 'dom0.log'), 'utf8');
  t.match(log, /loaded backend for 'mydev' from /);
  t.match(log, /backend mydev: serving mydev 7\/0/);
});

t.test('a guest built outside the tree with pvkvm sdk runs', kvmTest(), async (t) => {
  const dir = outside(t);
  const src = join(dir, 'hello.c');
  writeFileSync(src, '#include <pvkvm/pvkvm.h>\nint main(void) {\n  printf("hello from %s\\n", "outside the tree");\n  return 0;\n}\n');
  const built = await pvkvm(['sdk', 'build', join(dir, 'hello.elf'), src]);
  t.equal(built.code, 0, built.stderr);
  const run = await pvkvm(['run', join(dir, 'hello.elf')]);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /hello from outside the tree/);

  // The same with plain gcc and the flags pvkvm prints.
  const cflags = (await pvkvm(['sdk', 'cflags'])).stdout.trim().split(' ');
  const ldflags = (await pvkvm(['sdk', 'ldflags'])).stdout.trim().split(' ');
  t.notOk(cflags.some((f) => f.includes(`${ROOT}/domU-sdk`)), 'flags point at the installed SDK, not the source tree');
  execFileSync('gcc', [...cflags, '-c', src, '-o', join(dir, 'hello.o')]);
  execFileSync('gcc', [join(dir, 'hello.o'), ...ldflags, '-o', join(dir, 'hello2.elf')]);
  const run2 = await pvkvm(['run', join(dir, 'hello2.elf')]);
  t.match(run2.stdout, /hello from outside the tree/);

  const bad = await pvkvm(['sdk', 'build', join(dir, 'x.elf'), join(dir, 'nope.c')]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^pvkvm: sdk build: .*nope\.c: no such file\n$/);
  writeFileSync(join(dir, 'broken.c'), 'int main(void) { return nope; }\n');
  const broken = await pvkvm(['sdk', 'build', join(dir, 'b.elf'), join(dir, 'broken.c')]);
  t.equal(broken.code, 1);
  t.match(broken.stderr, /pvkvm: sdk build: gcc failed \(exit status 1\)\n$/);
});
