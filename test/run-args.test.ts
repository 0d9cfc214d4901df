// run-args.test.ts: `pvkvm run`'s option parsing — values that start with '-', disk specs (plain
// paths and xl disk specs with their own vdev), limits from abi/guest-limits.ts.
import t from 'tap';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunArgs, type RunOptions } from '../cli/run-args.ts';
import { GUEST_LIMITS } from '../abi/guest-limits.ts';
import { xenOuiMac } from '../abi/domain-settings.ts';

const dir = mkdtempSync(join(tmpdir(), 'pvkvm-run-args-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const kernel = join(dir, 'k.elf');
const img = join(dir, 'd.img');
writeFileSync(kernel, 'x');
writeFileSync(img, Buffer.alloc(4096));

const run = (...args: string[]): RunOptions => {
  const r = parseRunArgs([kernel, ...args]);
  if (r === 'help') throw new Error('unexpected help');
  return r;
};

t.test('option values that start with a dash', async (t) => {
  t.equal(run('--cmdline', '--foo').domain.cmdline, '--foo');
  t.equal(run('--cmdline=--foo bar').domain.cmdline, '--foo bar');
  t.equal(run('--cmdline', '-x', '--memory', '8').domain.memoryMiB, 8, 'the next option still parses');
  t.equal(run('--cmdline', 'a=b').domain.cmdline, 'a=b');
});

t.test('disks: plain paths and xl disk specs', async (t) => {
  const d = run('--disk', img, '--disk', `${img},ro`).disks;
  t.same(d.map((x) => [x.vdev, x.access]), [['xvda', 'rw'], ['xvdb', 'ro']]);
  const hda = run('--disk', `vdev=hda,access=ro,target=${img}`).disks;
  t.same(hda.map((x) => [x.vdev, x.access, x.target]), [['hda', 'ro', img]]);
  const xm = run('--disk', `${img},raw,xvdc,rw`).disks;
  t.same(xm.map((x) => [x.vdev, x.access]), [['xvdc', 'rw']]);
  t.throws(() => run('--disk', `${img},foo`), /format 'foo' is not supported/, 'an unknown word is not read as part of the file name');
  t.throws(() => run('--disk', `${img},vdev=hda`, '--disk', `vdev=hda,target=${img}`), /hda given twice/);
  t.throws(() => run('--disk', `vdev=floppy,target=${img}`), /bad vdev/);
});

t.test('limits are the abi/ guest limits', async (t) => {
  t.equal(run('--memory', String(GUEST_LIMITS.maxRamMiB)).domain.memoryMiB, GUEST_LIMITS.maxRamMiB);
  t.throws(() => run('--memory', String(GUEST_LIMITS.maxRamMiB + 1)), /--memory must be between/);
  t.equal(run('--vcpus', String(GUEST_LIMITS.maxVcpus)).domain.vcpus, GUEST_LIMITS.maxVcpus);
  t.throws(() => run('--vcpus', String(GUEST_LIMITS.maxVcpus + 1)), /--vcpus must be between/);
});

t.test('--vif: xl vif specs, repeatable, MACs filled in', async (t) => {
  t.same(run().vifs, [], 'no vifs by default');
  const v = run('--name', 'web', '--vif', '', '--vif', 'bridge=br0,ip=10.0.0.2,rate=100Mb/s', '--vif=mac=00:16:3E:00:00:01').vifs;
  t.same(v, [
    { mac: xenOuiMac('web', 0) },
    { bridge: 'br0', ip: '10.0.0.2', rateBytesPerSec: 12_500_000, mac: xenOuiMac('web', 1) },
    { mac: '00:16:3e:00:00:01' },
  ]);
  t.same(run('--vif', '').vifs[0]!.mac, xenOuiMac('k', 0), 'the default name (the kernel file) seeds the MAC');
  t.throws(() => run('--vif', 'bridge=br0,model=e1000,type=ioemu'), /--vif 'bridge=br0,model=e1000,type=ioemu': type 'ioemu' is not supported/);
  t.throws(() => run('--vif', 'rate=lots'), /--vif 'rate=lots': bad rate/);
  t.throws(() => run('--vif', 'mac=00:16:3e:00:00:01', '--vif', 'mac=00:16:3e:00:00:01'), /is already used/);
  t.throws(() => run(...Array.from({ length: 9 }, () => ['--vif', '']).flat()), /at most 8 --vif/);
});
