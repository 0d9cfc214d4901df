// domain-config.test.ts: xl.cfg-style domain config files — keys, defaults, syntax, disk and vif
// specs, every error with its line, and a fuzz showing only ConfigError ever escapes.
import t from 'tap';
import { parseDomainConfig, defaultVdev, type DomainConfigSpec } from '../cli/config.ts';
import { ConfigError, type ConfigErrorCode } from '../cli/config-error.ts';
import { xenOuiMac } from '../abi/domain-settings.ts';

const OPTS = { file: 'web.cfg', baseDir: '/etc/pvkvm' };
const parse = (text: string): DomainConfigSpec => parseDomainConfig(text, OPTS);
const MIN = 'name = "g"\nkernel = "k.elf"\n';

const FULL = `# A guest with everything set.
name = "web-1"
type = "pvh"
kernel = "/boot/web.elf"
cmdline = "console=hvc0 quiet"
memory = 512
vcpus = 4
disk = [ 'format=raw, vdev=xvda, access=rw, target=/srv/web.img',
         'data.img,raw,xvdb,ro' ]
vif = [ 'mac=00:16:3e:00:00:01, bridge=xenbr0' ]
on_poweroff = "preserve"
on_reboot = "rename-restart"
on_crash = "coredump-restart"
`;

t.test('every key', async (t) => {
  t.same(parse(FULL), {
    name: 'web-1',
    kernel: '/boot/web.elf',
    cmdline: 'console=hvc0 quiet',
    memoryMiB: 512,
    maxMemoryMiB: 512,
    vcpus: 4,
    maxVcpus: 4,
    ramdisk: null,
    cpuAffinity: null,
    uuid: null,
    disks: [
      { target: '/srv/web.img', vdev: 'xvda', access: 'rw', format: 'raw' },
      { target: '/etc/pvkvm/data.img', vdev: 'xvdb', access: 'ro', format: 'raw' },
    ],
    vifs: [{ mac: '00:16:3e:00:00:01', bridge: 'xenbr0' }],
    onPoweroff: 'preserve',
    onReboot: 'rename-restart',
    onCrash: 'coredump-restart',
    onWatchdog: 'destroy',
    emulatedDisks: [],
    console: 'pv',
    warnings: [],
  });
});

t.test("pvkvm's comparator keys: emulated_disk and console", async (t) => {
  const spec = parse(`${MIN}emulated_disk = [ 'target=ata.img' ]\nconsole = "uart"\n`);
  t.same(spec.emulatedDisks, [{ target: '/etc/pvkvm/ata.img', vdev: 'xvda', access: 'rw', format: 'raw' }]);
  t.equal(spec.console, 'uart');
  t.throws(() => parse(`${MIN}console = "vga"\n`), /console' must be "pv" or "uart"/);
  t.throws(() => parse(`${MIN}emulated_disk = [ 'target=a.img', 'target=b.img' ]\n`), /only one emulated disk/);
});

t.test('defaults, as xl has them', async (t) => {
  t.same(parse(MIN), {
    name: 'g', kernel: '/etc/pvkvm/k.elf', cmdline: '', memoryMiB: 128, maxMemoryMiB: 128, vcpus: 1, maxVcpus: 1, ramdisk: null, cpuAffinity: null, uuid: null,
    disks: [], vifs: [], onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'destroy', onWatchdog: 'destroy',
    emulatedDisks: [], console: 'pv', warnings: [],
  });
  t.equal(parseDomainConfig(MIN, { file: 'x', baseDir: '/a/b' }).kernel, '/a/b/k.elf', 'kernel resolved against baseDir');
  t.equal(parse('name="g"\nkernel="../k"\n').kernel, '/etc/k');
});

t.test('cmdline, extra and root', async (t) => {
  t.equal(parse(`${MIN}extra = "console=hvc0"`).cmdline, 'console=hvc0');
  t.equal(parse(`${MIN}root = "/dev/xvda1"`).cmdline, 'root=/dev/xvda1');
  t.equal(parse(`${MIN}root = "/dev/xvda1"\nextra = "ro quiet"`).cmdline, 'root=/dev/xvda1 ro quiet');
  t.equal(parse(`${MIN}cmdline = ""`).cmdline, '');
});

t.test('quoting, comments, separators, numbers', async (t) => {
  const c = parse(`name='g' # trailing comment
kernel = "a dir/k # not a comment.elf"
cmdline = 'it\\'s "quoted" \\\\ ok\\tx'
memory = 0x100 ; vcpus = 3
   # indented comment

`);
  t.equal(c.kernel, '/etc/pvkvm/a dir/k # not a comment.elf');
  t.equal(c.cmdline, 'it\'s "quoted" \\ ok\tx');
  t.equal(c.memoryMiB, 256);
  t.equal(c.vcpus, 3);
  t.equal(parse('name="g"\r\nkernel="k"\r\n').name, 'g', 'CRLF line ends');
  t.equal(parse('\ufeffname="g"\nkernel="k"').name, 'g', 'byte-order mark');
});

t.test('lists span lines, take comments and a trailing comma', async (t) => {
  const c = parse(`${MIN}disk = [
  # the root disk
  'a.img',

  'b.img' , # data
  'c.img',
]
vif = []
`);
  t.same(c.disks.map((d) => d.target), ['/etc/pvkvm/a.img', '/etc/pvkvm/b.img', '/etc/pvkvm/c.img']);
  t.same(c.vifs, []);
  t.same(parse(`${MIN}disk = ['a.img',]`).disks.length, 1);
});

t.test('disk spec forms', async (t) => {
  const disks = (...specs: string[]) => parse(`${MIN}disk = [${specs.map((s) => JSON.stringify(s)).join(', ')}]`).disks;
  t.same(disks('format=raw, vdev=xvdc, access=ro, target=/x/y.img'), [
    { target: '/x/y.img', vdev: 'xvdc', access: 'ro', format: 'raw' },
  ]);
  t.same(disks('/x/y.img,raw,xvdc,ro'), [{ target: '/x/y.img', vdev: 'xvdc', access: 'ro', format: 'raw' }]);
  t.same(disks('phy:/dev/vg/root,xvda,w', 'file:/srv/b.img,xvdb,r'), [
    { target: '/dev/vg/root', vdev: 'xvda', access: 'rw', format: 'raw' },
    { target: '/srv/b.img', vdev: 'xvdb', access: 'ro', format: 'raw' },
  ], 'xm-style prefixes and 3-element form');
  t.same(disks('vdev=xvdb, target=/odd,name=x.img').map((d) => [d.target, d.vdev]), [['/odd,name=x.img', 'xvdb']],
    'target= swallows the rest, commas included');
  t.same(disks('a', 'b', 'c').map((d) => d.vdev), ['xvda', 'xvdb', 'xvdc'], 'vdev defaults by position');
  t.same(disks('a,,,ro').map((d) => [d.vdev, d.access]), [['xvda', 'ro']], 'empty positions take defaults');
  t.same(disks('a,raw').map((d) => d.vdev), ['xvda']);
  t.same(disks('/dev/vg/g,,hda').map((d) => [d.target, d.vdev, d.access]), [['/dev/vg/g', 'hda', 'rw']], 'xl man page form');
  t.same(disks('raw:/dev/vg/g,hda,w').map((d) => [d.target, d.vdev, d.access]), [['/dev/vg/g', 'hda', 'rw']], 'deprecated prefix gives the format');
  t.same(disks(',raw,xvdc,target=/x,y').map((d) => [d.target, d.vdev]), [['/x,y', 'xvdc']], 'empty positional target, then target=');
  t.same(disks('vdev=xvdd,a.img,raw').map((d) => [d.target, d.vdev]), [['/etc/pvkvm/a.img', 'xvdd']], 'named slots are skipped by positionals');
  t.same(disks('a,,xvdb:disk', 'b,devtype=disk,vdev=sda', 'c,,hdc').map((d) => d.vdev), ['xvdb', 'sda', 'hdc']);
  for (const [acc, want] of [['rw', 'rw'], ['w', 'rw'], ['ro', 'ro'], ['r', 'ro']]) {
    t.equal(disks(`a,access=${acc}`)[0]!.access, want, `access=${acc}`);
  }
  t.equal(defaultVdev(0), 'xvda');
  t.equal(defaultVdev(25), 'xvdz');
  t.equal(defaultVdev(26), 'xvdaa');
  t.equal(defaultVdev(27), 'xvdab');
  t.equal(defaultVdev(26 + 26 * 26), 'xvdaaa');
});

t.test('vif specs', async (t) => {
  const vifs = (...specs: string[]) => parse(`${MIN}vif = [${specs.map((s) => JSON.stringify(s)).join(', ')}]`).vifs;
  t.same(vifs('', 'bridge=br0', 'mac=AA:16:3e:00:00:02'),
    [{ mac: xenOuiMac('g', 0) }, { bridge: 'br0', mac: xenOuiMac('g', 1) }, { mac: 'aa:16:3e:00:00:02' }],
    'a vif without a mac gets a stable Xen-OUI one from the name and its devid');
  t.same(vifs(' mac = 00:16:3e:00:00:03 , bridge = xenbr1 '), [{ mac: '00:16:3e:00:00:03', bridge: 'xenbr1' }]);
  t.same(vifs('mac=00:16:3e:74:3d:76,model=rtl8139,bridge=xenbr0,type=vif,ip=10.0.0.2,rate=10MB/s@20ms,script=vif-bridge,backend=0,devid=4'),
    [{ mac: '00:16:3e:74:3d:76', bridge: 'xenbr0', ip: '10.0.0.2', rateBytesPerSec: 10_000_000, rateIntervalUs: 20_000, devid: 4 }]);
  t.equal(vifs('', '')[0]!.mac, parse(`${MIN}vif = [ '', '' ]`).vifs[0]!.mac, 'the same file gives the same MACs');
});

/** [config text, expected line (null: whole file), code, message pattern]. */
const ERRORS: Array<[string, number | null, ConfigErrorCode, RegExp]> = [
  ['kernel = "k"', null, 'MISSING_KEY', /missing required key 'name'/],
  ['name = "g"', null, 'MISSING_KEY', /missing required key 'kernel'/],
  [`${MIN}colour = "blue"\ncolour = "red"`, 4, 'DUPLICATE_KEY', /'colour' is already set on line 3/],
  [`${MIN}colour = blue`, 3, 'SYNTAX', /'blue' must be quoted/],
  [`${MIN}memory = 256\nmaxmem = 128`, 4, 'BAD_VALUE', /'maxmem' \(128\) must be at least 'memory' \(256\)/],
  [`${MIN}maxmem = 9999`, 3, 'BAD_VALUE', /'maxmem' must be between/],
  [`${MIN}vcpus = 4\nmaxvcpus = 2`, 4, 'BAD_VALUE', /'maxvcpus' \(2\) must be at least 'vcpus'/],
  [`${MIN}cpus = "0-3,x"`, 3, 'BAD_VALUE', /'cpus': bad CPU list item 'x'/],
  [`${MIN}cpus = "3-1"`, 3, 'BAD_VALUE', /'cpus': bad CPU range '3-1'/],
  [`${MIN}cpus = "0,^0"`, 3, 'BAD_VALUE', /'cpus': CPU list '0,\^0' names no CPU/],
  [`${MIN}cpus = [ "0", "1" ]`, 3, 'BAD_VALUE', /'cpus' has 2 entries for 1 vCPU/],
  [`${MIN}cpus_soft = [ "1",\n "two" ]`, 4, 'BAD_VALUE', /'cpus_soft': bad CPU list item 'two'/],
  [`${MIN}uuid = "not-a-uuid"`, 3, 'BAD_VALUE', /'uuid' must be xxxxxxxx-/],
  [`${MIN}ramdisk = ""`, 3, 'BAD_VALUE', /'ramdisk' is empty/],
  [`${MIN}ramdisk = 5`, 3, 'BAD_TYPE', /'ramdisk' must be a string/],
  [`${MIN}on_watchdog = "bark"`, 3, 'BAD_VALUE', /'on_watchdog' must be one of/],
  [`${MIN}builder = "hvm"`, 3, 'BAD_VALUE', /pvkvm runs PVH guests only/],
  [`${MIN}memory = 64\nmemory = 128`, 4, 'DUPLICATE_KEY', /'memory' is already set on line 3/],
  ['name = g\nkernel = "k"', 1, 'SYNTAX', /'g' must be quoted/],
  [`${MIN}memory 128`, 3, 'SYNTAX', /expected '=' after 'memory'/],
  [`${MIN}= 5`, 3, 'SYNTAX', /expected a key, got '='/],
  [`${MIN}memory = `, 3, 'SYNTAX', /expected a value, got end of file/],
  [`${MIN}memory = 1 2`, 3, 'SYNTAX', /unexpected a number after the value of 'memory'/],
  [`${MIN}cmdline = "abc`, 3, 'SYNTAX', /unterminated string/],
  [`${MIN}cmdline = "abc\n"`, 3, 'SYNTAX', /unterminated string/],
  [`${MIN}memory = 12abc`, 3, 'SYNTAX', /bad number '12abc'/],
  [`${MIN}memory = 99999999999999999999`, 3, 'SYNTAX', /bad number/],
  [`${MIN}memory = -5`, 3, 'SYNTAX', /unexpected character '-'/],
  [`${MIN}memory += 5`, 3, 'SYNTAX', /unexpected character '\+'/],
  [`${MIN}\n\ndisk = [ 'a',\n 'b'\n`, 5, 'SYNTAX', /list is missing its closing '\]'/],
  [`${MIN}disk = [ 'a' 'b' ]`, 3, 'SYNTAX', /expected ',' or '\]' in list, got a string/],
  [`${MIN}disk = [ , ]`, 3, 'SYNTAX', /expected a value, got ','/],
  [`${MIN}disk = [ ['a'] ]`, 3, 'BAD_TYPE', /lists cannot be nested/],
  [`${MIN}cmdline = "a\0b"`, 3, 'BAD_VALUE', /NUL/],
  [`${MIN}cmdline = 5`, 3, 'BAD_TYPE', /'cmdline' must be a string, not a number/],
  [`${MIN}memory = "128"`, 3, 'BAD_TYPE', /'memory' must be a number, not a string/],
  [`${MIN}vcpus = [1]`, 3, 'BAD_TYPE', /'vcpus' must be a number, not a list/],
  [`${MIN}disk = 'a.img'`, 3, 'BAD_TYPE', /'disk' must be a list, not a string/],
  [`${MIN}disk = [\n'a.img',\n 7 ]`, 5, 'BAD_TYPE', /'disk' entries must be strings, not a number/],
  [`${MIN}memory = 1`, 3, 'BAD_VALUE', /'memory' must be between 2 and 3072 \(got 1\)/],
  [`${MIN}memory = 4096`, 3, 'BAD_VALUE', /between 2 and 3072/],
  [`${MIN}vcpus = 0`, 3, 'BAD_VALUE', /'vcpus' must be between 1 and 32/],
  [`${MIN}vcpus = 33`, 3, 'BAD_VALUE', /'vcpus' must be between 1 and 32/],
  ['name = ""\nkernel = "k"', 1, 'BAD_VALUE', /'name' must be 1-64 characters/],
  ['name = "bad name"\nkernel = "k"', 1, 'BAD_VALUE', /'name' must be 1-64 characters/],
  [`name = "${'a'.repeat(65)}"\nkernel = "k"`, 1, 'BAD_VALUE', /'name' must be 1-64/],
  ['name = ".."\nkernel = "k"', 1, 'BAD_VALUE', /starting with a letter or digit/],
  ['name = "42"\nkernel = "k"', 1, 'BAD_VALUE', /must not be all digits/],
  ['name = "g"\nkernel = ""', 2, 'BAD_VALUE', /'kernel' is empty/],
  [`${MIN}type = "hvm"`, 3, 'BAD_VALUE', /'type' must be 'pvh'/],
  [`${MIN}cmdline = "x"\nextra = "y"`, 3, 'BAD_VALUE', /cannot be combined/],
  [`${MIN}on_crash = "explode"`, 3, 'BAD_VALUE', /'on_crash' must be one of destroy, restart/],
  [`${MIN}on_reboot = 1`, 3, 'BAD_TYPE', /'on_reboot' must be a string/],
  [`${MIN}disk = [ '' ]`, 3, 'BAD_VALUE', /disk 0: no target/],
  [`${MIN}disk = [ 'vdev=xvda' ]`, 3, 'BAD_VALUE', /disk 0: no target/],
  [`${MIN}disk = [ 'a', 'b,qcow2' ]`, 3, 'BAD_VALUE', /disk 1: format 'qcow2' is not supported/],
  [`${MIN}disk = [ 'a,format=vhd' ]`, 3, 'BAD_VALUE', /format 'vhd' is not supported/],
  [`${MIN}disk = [ 'tap:qcow2:/x.q' ]`, 3, 'BAD_VALUE', /format 'qcow2' is not supported/],
  [`${MIN}disk = [ 'a,raw,xvda,rw,extra' ]`, 3, 'BAD_VALUE', /unexpected parameter 'extra'/],
  [`${MIN}disk = [ 'a,script=block' ]`, 3, 'BAD_VALUE', /parameter 'script' is not supported/],
  [`${MIN}disk = [ 'a,,hdc:cdrom' ]`, 3, 'BAD_VALUE', /devtype 'cdrom' is not supported/],
  [`${MIN}disk = [ 'a,devtype=cdrom' ]`, 3, 'BAD_VALUE', /devtype 'cdrom' is not supported/],
  [`${MIN}disk = [ 'a,,hdc,cdrom' ]`, 3, 'BAD_VALUE', /disk 0: 'cdrom' is not supported/],
  [`${MIN}disk = [ '/x.img,xvda,w' ]`, 3, 'BAD_VALUE', /format 'xvda' is not supported/],
  [`${MIN}disk = [ 'a,,,,' ]`, 3, 'BAD_VALUE', /unexpected parameter ''/],
  [`${MIN}disk = [ 'a,vdev=floppy' ]`, 3, 'BAD_VALUE', /bad vdev 'floppy'/],
  [`${MIN}disk = [ 'a,access=rwx' ]`, 3, 'BAD_VALUE', /access must be rw or ro/],
  [`${MIN}disk = [ 'a,vdev=xvda,vdev=xvdb' ]`, 3, 'BAD_VALUE', /vdev given twice/],
  [`${MIN}disk = [ 'a,target=b' ]`, 3, 'BAD_VALUE', /target given twice/],
  [`${MIN}disk = [ 'a',\n  'b,,xvda' ]`, 4, 'BAD_VALUE', /disk 1: vdev xvda is already used by disk 0/],
  [`${MIN}vif = [ 'bridge' ]`, 3, 'BAD_VALUE', /vif 0: expected key=value/],
  [`${MIN}vif = [ 'mac=00:16:3e:00:00' ]`, 3, 'BAD_VALUE', /bad mac/],
  [`${MIN}vif = [ 'mac=01:16:3e:00:00:00' ]`, 3, 'BAD_VALUE', /multicast/],
  [`${MIN}vif = [ 'bridge=this-name-is-too-long' ]`, 3, 'BAD_VALUE', /bad bridge name/],
  [`${MIN}vif = [ 'bridge=a,bridge=b' ]`, 3, 'BAD_VALUE', /bridge given twice/],
  [`${MIN}vif = [ 'mac=00:16:3e:00:00:01,mac=00:16:3e:00:00:02' ]`, 3, 'BAD_VALUE', /mac given twice/],
  [`${MIN}vif = [ 'type=ioemu' ]`, 3, 'BAD_VALUE', /vif 0: type 'ioemu' is not supported/],
  [`${MIN}vif = [ '',\n  'rate=100mbit' ]`, 4, 'BAD_VALUE', /vif 1: bad rate '100mbit'/],
  [`${MIN}vif = [ 'vifname=x' ]`, 3, 'BAD_VALUE', /vif 0: vifname is not supported/],
  [`${MIN}vif = [ 'mac=00:16:3e:00:00:01',\n 'mac=00:16:3e:00:00:01' ]`, 4, 'BAD_VALUE', /vif 1: mac 00:16:3e:00:00:01 is already used/],
  [`${MIN}vif = [ '','','','','','','','','' ]`, 3, 'BAD_VALUE', /at most 8 vifs/],
  [`${MIN}cmdline = "\u0001"\n!`, 4, 'SYNTAX', /unexpected character '!'/],
];

t.test('every error names its line, in one line, with a stable code', async (t) => {
  for (const [text, line, code, pattern] of ERRORS) {
    try {
      parse(text);
      t.fail(`no error for ${JSON.stringify(text)}`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const prefix = line === null ? 'web.cfg: ' : `web.cfg:${line}: `;
      t.ok(err.message.startsWith(prefix), `${err.message} starts with ${prefix}`);
      t.equal(err.line, line);
      t.equal(err.code, code, err.message);
      t.match(err.message, pattern);
      t.notMatch(err.message, /\n/, 'one line');
    }
  }
});

t.test('user text in messages is escaped and cut short', async (t) => {
  const err = t.throws(() => parse(`${MIN}disk = [ 'a,vdev=x${'\\n'.repeat(100)}y' ]`)) as ConfigError;
  t.match(err.message, /bad vdev 'x(\\n)+/);
  t.notMatch(err.message, /\n/);
  t.ok(err.message.length < 200, err.message);
});

/** Deterministic PRNG so a failing case replays. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

t.test('fuzz: random mutations of a valid config raise only ConfigError', async (t) => {
  const r = rng(2024);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const alphabet = [...'"\'[],=#;\n\\ \t0123456789x:-_.abcdefghiz/', '\0', '\r', 'é', '\u{1F600}', '\ud800', 'target=', 'vdev=', '0x', '[[', ']]'];
  const seeds = [FULL, MIN, `${MIN}disk = [ 'phy:/dev/x,xvdb,w', 'format=raw,target=/a,b' ]\nvif = ['mac=00:16:3e:00:00:01']\n`];
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < 6000; i++) {
    let text = pick(seeds);
    const edits = 1 + Math.floor(r() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * (text.length + 1));
      switch (Math.floor(r() * 5)) {
        case 0: text = text.slice(0, at) + pick(alphabet) + text.slice(at); break;
        case 1: text = text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 8)); break;
        case 2: text = text.slice(0, at) + pick(alphabet) + text.slice(at + 1); break;
        case 3: text = text.slice(0, at) + text.slice(Math.floor(r() * text.length)); break;
        default: text = text.slice(at) + text.slice(0, at); break;
      }
    }
    try {
      parse(text);
      accepted++;
    } catch (err) {
      if (!(err instanceof ConfigError)) {
        t.fail(`non-ConfigError for ${JSON.stringify(text)}: ${String(err)}`);
        continue;
      }
      if (!/^web\.cfg:(\d+:)? [^\n]+$/.test(err.message)) t.fail(`bad message: ${JSON.stringify(err.message)}`);
      rejected++;
    }
  }
  t.ok(accepted > 0 && rejected > 0, `accepted ${accepted}, rejected ${rejected}`);
});

t.test('fuzz: random text raises only ConfigError', async (t) => {
  const r = rng(77);
  const atoms = ['name', 'kernel', 'disk', 'vif', 'memory', '=', ' ', '\n', '"', "'", '[', ']', ',', '#', ';', '\\', '0x1f', '42', 'a', '\0', '\u2028', 'é'];
  for (let i = 0; i < 3000; i++) {
    let text = '';
    const n = Math.floor(r() * 40);
    for (let k = 0; k < n; k++) text += r() < 0.8 ? atoms[Math.floor(r() * atoms.length)] : String.fromCharCode(Math.floor(r() * 0x3000));
    try {
      parse(text);
    } catch (err) {
      if (!(err instanceof ConfigError)) t.fail(`non-ConfigError for ${JSON.stringify(text)}: ${String(err)}`);
    }
  }
  t.pass('no other exception');
});
