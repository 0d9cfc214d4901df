// run-args.test.ts: `pvkvm run`'s option parsing — values that start with '-', disk specs (plain
// paths and xl disk specs with their own vdev), limits from abi/guest-limits.ts.
import t from 'tap';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunArgs, type RunOptions } from '../cli/run-args.ts';
import { GUEST_LIMITS } from '../abi/guest-limits.ts';

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
