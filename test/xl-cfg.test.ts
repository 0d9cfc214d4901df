// xl-cfg.test.ts: real xl.cfg(5) files load — Xen-style example configs (test/fixtures/xl) parse
// into the right settings with one warning per ignored key, and a domain created from such a file
// gets maxmem/memory, uuid, ramdisk and on_watchdog in xenstore and the toolstack.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDomainConfig } from '../cli/config.ts';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';
import { guestPath } from './helpers/run-guest.ts';
import { XsSocketClient } from './helpers/xs-client.ts';
import { runDirPath } from '../abi/run-dir.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'xl');
const load = (file: string) => parseDomainConfig(readFileSync(join(FIXTURES, file), 'utf8'), { file, baseDir: '/etc/xen' });

t.test('xlexample.pvhlinux loads as it is, without a warning', async (t) => {
  const spec = load('xlexample.pvhlinux');
  t.equal(spec.name, 'example.pvhlinux');
  t.equal(spec.kernel, '/boot/vmlinuz');
  t.equal(spec.cmdline, 'root=/dev/xvda1');
  t.equal(spec.memoryMiB, 512);
  t.equal(spec.maxMemoryMiB, 512, 'maxmem defaults to memory');
  t.equal(spec.vcpus, 4);
  t.equal(spec.vifs.length, 1);
  t.match(spec.vifs[0]!.mac, /^00:16:3e:/);
  t.same(spec.disks, [{ target: '/dev/vg/guest-volume', vdev: 'xvda', access: 'rw', format: 'raw' }]);
  t.equal(spec.ramdisk, null);
  t.equal(spec.uuid, null);
  t.same(spec.warnings, []);
});

t.test('a config using much of xl.cfg(5): implemented keys applied, the others warned about once with their line', async (t) => {
  const spec = load('xlexample.full');
  t.equal(spec.name, 'web-full');
  t.equal(spec.memoryMiB, 256, 'memory is the balloon target');
  t.equal(spec.maxMemoryMiB, 512, 'maxmem is what the domain is built with');
  t.equal(spec.vcpus, 2, 'vcpus: online at boot');
  t.equal(spec.maxVcpus, 4, 'maxvcpus: how many the domain has (vcpu-set moves within them)');
  t.equal(spec.uuid, '6b0a5f4e-3c1d-4e2f-9a8b-7c6d5e4f3a2b', 'uuid, lower-cased');
  t.equal(spec.ramdisk, '/etc/xen/initrd.img', 'ramdisk resolved against the config directory');
  t.equal(spec.kernel, '/etc/xen/vmlinuz-pvh');
  t.equal(spec.cmdline, 'root=/dev/xvda1 ro console=hvc0 earlyprintk=xen', 'root and extra make the command line');
  t.equal(spec.onCrash, 'restart');
  t.equal(spec.onWatchdog, 'restart');
  t.equal(spec.disks.length, 2);
  t.same(spec.disks[1], { target: '/dev/vg/web-data', vdev: 'xvdb', access: 'rw', format: 'raw' });
  t.same(spec.vifs.map((v) => v.bridge), ['xenbr0', 'xenbr1']);

  const text = readFileSync(join(FIXTURES, 'xlexample.full'), 'utf8').split('\n');
  const lineOf = (key: string): number => text.findIndex((l) => l.startsWith(`${key} `)) + 1;
  const expected = ['pool', 'cpus_soft', 'cpu_weight', 'cap', 'on_soft_reset', 'serial', 'vfb', 'vkb', 'channel',
    'max_grant_frames', 'max_event_channels', 'nomigrate', 'tsc_mode', 'localtime', 'seclabel', 'bootloader_args', 'pci', 'favourite_colour'];
  t.equal(spec.warnings.length, expected.length, spec.warnings.join('\n'));
  for (const key of expected) {
    const w = spec.warnings.filter((x) => x.includes(`'${key}'`));
    t.equal(w.length, 1, `one warning for ${key}`);
    t.match(w[0], new RegExp(`^xlexample\\.full:${lineOf(key)}: warning: `), `${key}'s warning names line ${lineOf(key)}`);
    t.notMatch(w[0], /\n/);
  }
  t.same(spec.cpuAffinity, [[0, 2, 3]], "cpus = \"0-3,^1\" pins every vCPU to CPUs 0, 2 and 3");
  t.match(spec.warnings.find((w) => w.includes("'cpus_soft'")), /Linux has no soft affinity/);
  t.match(spec.warnings.find((w) => w.includes("'serial'")), /console = "uart"/);
  t.match(spec.warnings.find((w) => w.includes("'favourite_colour'")), /unknown key 'favourite_colour' ignored/);
});

t.test('type and builder', async (t) => {
  const base = 'name = "g"\nkernel = "/k"\n';
  const parse = (extra: string) => parseDomainConfig(base + extra, { file: 'g.cfg', baseDir: '/' });
  t.same(parse('type = "pvh"\n').warnings, []);
  t.match(parse('type = "pv"\n').warnings, [/g\.cfg:3: warning: type 'pv': pvkvm boots the kernel as PVH/]);
  t.match(parse('builder = "generic"\n').warnings, [/g\.cfg:3: warning: 'builder' is deprecated/]);
  t.same(parse('type = "pvh"\nbuilder = "generic"\n').warnings, [], "'type' wins over 'builder', as in xl");
  t.throws(() => parse('type = "hvm"\n'), /g\.cfg:3: 'type' must be 'pvh'/);
});

t.test('a domain from an xl config: maxmem, uuid, ramdisk and on_watchdog reach xenstore and the toolstack', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const initrd = join(d.runDir, 'initrd.img');
  writeFileSync(initrd, Buffer.alloc(8192, 0x5a));
  const uuid = '6b0a5f4e-3c1d-4e2f-9a8b-7c6d5e4f3a2b';
  const cfg = join(d.runDir, 'xl.cfg');
  writeFileSync(cfg, [
    'name = "xlguest"', 'type = "pvh"', `kernel = "${guestPath('spin')}"`, 'ramdisk = "initrd.img"',
    'memory = 32', 'maxmem = 48', 'vcpus = 1', 'cpus = "1"', `uuid = "${uuid.toUpperCase()}"`,
    'on_watchdog = "restart"', 'vfb = [ "vnc=1" ]', 'serial = "pty"', '',
  ].join('\n'));
  const created = await d.cli(['create', cfg]);
  t.equal(created.code, 0, created.stderr);
  const domid = /created domain (\d+)/.exec(created.stdout)![1];
  t.match(created.stderr, /xl\.cfg:11: warning: 'vfb' ignored/);
  t.match(created.stderr, /xl\.cfg:12: warning: 'serial' ignored/);
  t.equal(created.stderr.trim().split('\n').length, 2, 'one line per ignored key');
  t.ok(created.stderr.indexOf("'vfb'") < created.stderr.indexOf("'serial'"), 'in file order');
  // dom0 pins each vCPU thread once the hypervisor has started it.
  const pinned = await eventually(async () => {
    const vl = await d.cli(['vcpu-list', 'xlguest']);
    return /^xlguest\s+\d+\s+0\s+online\s+[\d.]+\s+1\n/m.test(vl.stdout) ? vl.stdout : undefined;
  });
  t.ok(pinned, 'cpus = "1" pinned vCPU 0\'s thread to CPU 1');

  const xs = await XsSocketClient.connect(runDirPath(d.runDir, 'xenstoredSocket'));
  t.teardown(() => xs.close());
  const home = `/local/domain/${domid}`;
  t.equal(await xs.read(`${home}/memory/static-max`), String(48 * 1024), 'static-max is maxmem');
  t.equal(await xs.read(`${home}/memory/target`), String(32 * 1024), 'target is memory');
  t.equal(await xs.read(`${home}/vm`), `/vm/${uuid}`, 'the config\'s uuid names /vm');
  t.equal(await xs.read(`/vm/${uuid}/uuid`), uuid);

  const info = JSON.parse((await d.cli(['info', 'xlguest'])).stdout) as Record<string, unknown>;
  t.equal(info.uuid, uuid);
  t.equal(info.memory_mib, 32);
  t.equal(info.max_memory_mib, 48);
  t.equal(info.on_watchdog, 'restart');
  t.same(info.modules, [initrd], 'the ramdisk is the first boot module');

  t.equal((await d.cli(['mem-set', 'xlguest', '40'])).code, 0, 'mem-set above memory, within maxmem');
  t.equal(await xs.read(`${home}/memory/target`), String(40 * 1024));
  const over = await d.cli(['mem-set', 'xlguest', '49']);
  t.equal(over.code, 1);
  t.match(over.stderr, /^pvkvm: memory must be between 2 and 48 MiB for xlguest\n$/);

  const dup = await d.cli(['create', cfg]);
  t.not(dup.code, 0, 'a second domain with the same name/uuid is refused');
  t.ok(await eventually(async () => ((await d.cli(['destroy', 'xlguest'])).code === 0 ? true : undefined)));
});

t.test('on_watchdog = "restart" restarts a domain whose watchdog fired', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const cfg = d.config('wd', 'watchdog', { cmdline: 'mode=expire', on_watchdog: 'restart' });
  const created = await d.cli(['create', cfg]);
  t.equal(created.code, 0, created.stderr);
  const first = Number(/created domain (\d+)/.exec(created.stdout)![1]);
  // The restarted domain's watchdog fires again within a second or two, and dom0 then gives up
  // ("restarted too fast"), so polling `list` can miss it on a busy machine: dom0's log names it.
  const log = (): string => readFileSync(join(d.runDir, 'dom0.log'), 'utf8');
  const restarted = await eventually(() => {
    const ids = [...log().matchAll(/created domain (\d+) \(wd\)/g)].map((m) => Number(m[1]));
    return ids.find((id) => id !== first);
  }, 60_000);
  t.ok(restarted, `restarted as domain ${restarted}`);
  t.match(log(), new RegExp(`domain ${first} \\(wd\\) ended: shutdown reason 4`), 'the first one ended by its watchdog');
  await d.cli(['destroy', 'wd']);
});
