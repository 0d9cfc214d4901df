// packaging.test.ts: `npm pack` ships only what runs (prepack builds it), and the tarball installs
// offline into a temporary prefix as a working `pvkvm` command — run from outside the repository.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmAvailable } from './helpers/kvm.ts';
import { ROOT, cleanEnv } from './helpers/run-guest.ts';

const tmp = mkdtempSync(join(tmpdir(), 'pvkvm-pack-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const env = { ...cleanEnv(), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

t.test('npm pack builds (prepack) and ships dist, the sample guest, docs and the bundled koffi only', async (t) => {
  npm(['pack', '--pack-destination', tmp], ROOT);
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  t.ok(tarball, 'a tarball');
  const files = execFileSync('tar', ['tzf', join(tmp, tarball!)], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
  for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/pvkvm.js', 'dist/vcpu-worker.js', 'dist/dom0-event-thread.js',
    'dist/blkback-worker.js', 'dist/guests/hello.elf', 'node_modules/koffi/package.json', 'dist/backend-sdk.js',
    'dist/sdk/libpvkvm.a', 'dist/sdk/kernel/pvkvm-kernel.o', 'dist/sdk/link.ld', 'dist/sdk/flags.json', 'dist/sdk/include/pvkvm/pvkvm.h']) {
    t.ok(files.includes(f), `ships ${f}`);
  }
  t.ok(files.some((f) => f.startsWith('node_modules/@koromix/koffi-linux-x64/')), 'ships koffi\'s Linux x64 binary package');
  // The installed guest SDK's kernel object is the one object file shipped (pvkvm sdk ldflags).
  for (const [what, re] of [['object files', /^(?!dist\/sdk\/kernel\/pvkvm-kernel\.o$).*\.o$/], ['tests', /^test\//], ['sources', /^(cli|dom0|hypervisor|host|abi|domU-sdk)\//],
    ['source maps', /\.map$/], ['test guests', /^dist\/guests\/(?!hello\.)/]] as const) {
    t.same(files.filter((f) => re.test(f)), [], `no ${what}`);
  }
});

t.test('the tarball installs offline into a prefix; pvkvm --help and pvkvm run work from outside the repository', async (t) => {
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (tarball === undefined) return t.fail('no tarball');
  const prefix = join(tmp, 'prefix');
  // --offline: koffi comes from the tarball itself (bundleDependencies), nothing from the network.
  npm(['install', '-g', '--offline', '--prefix', prefix, join(tmp, tarball)], tmp);
  const bin = join(prefix, 'bin', 'pvkvm');
  t.ok(existsSync(bin), 'a pvkvm command');
  const away = join(tmp, 'elsewhere');
  mkdirSync(away);
  const help = spawnSync(bin, ['--help'], { cwd: away, env, encoding: 'utf8' });
  t.equal(help.status, 0, help.stderr);
  t.match(help.stdout, /^pvkvm \d+\.\d+\.\d+ — /);
  if (!kvmAvailable() && process.env.PVKVM_ALLOW_NO_KVM === '1') return t.comment('no /dev/kvm: the guest run is skipped');
  copyFileSync(join(ROOT, 'dist', 'guests', 'hello.elf'), join(away, 'hello.elf'));
  const run = spawnSync(bin, ['run', 'hello.elf', '--timeout', '120'], { cwd: away, env, encoding: 'utf8', timeout: 180_000 });
  t.equal(run.status, 0, run.stderr);
  t.match(run.stderr, /domain \d+ \(hello\) shut down: poweroff/);
});
