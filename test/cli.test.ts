// cli.test.ts: the pvkvm command line — help, version, bad input as one clear line, timeouts, faults.
import t, { type Test } from 'tap';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { pvkvm, runGuest, guestPath } from './helpers/run-guest.ts';
import { EXIT } from '../cli/exit-codes.ts';

const tmp = mkdtempSync(join(tmpdir(), 'pvkvm-cli-'));

/** One line on stderr, no stack trace. */
function oneLine(t: Test, stderr: string): void {
  const lines = stderr.trim().split('\n');
  t.equal(lines.length, 1, `exactly one line: ${stderr}`);
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');
  t.match(lines[0], /^pvkvm: /);
}

t.test('--help and --version', async (t) => {
  const h = await pvkvm(['--help']);
  t.equal(h.code, 0);
  t.match(h.stdout, /pvkvm run KERNEL/);
  t.match(h.stdout, /124 +--timeout expired/);
  const v = await pvkvm(['--version']);
  t.equal(v.code, 0);
  t.match(v.stdout, /^pvkvm \d+\.\d+\.\d+\n$/);
  const rh = await pvkvm(['run', '--help']);
  t.match(rh.stdout, /--memory MiB/);
});

t.test('bad flags give one line and exit 2', async (t) => {
  const cases: string[][] = [
    ['frobnicate'],
    ['run'],
    ['run', guestPath('hello'), '--memory', 'lots'],
    ['run', guestPath('hello'), '--memory', '1'],
    ['run', guestPath('hello'), '--vcpus', '0'],
    ['run', guestPath('hello'), '--bogus'],
    ['run', guestPath('hello'), 'extra'],
    ['run', guestPath('hello'), '--name', 'bad name!'],
  ];
  for (const args of cases) {
    const r = await pvkvm(args);
    t.equal(r.code, EXIT.usage, `${args.join(' ')} → usage error`);
    oneLine(t, r.stderr);
  }
});

t.test('bad files give one line and exit 1', kvmTest(), async (t) => {
  const hello = readFileSync(guestPath('hello'));
  const notElf = join(tmp, 'not.elf');
  writeFileSync(notElf, 'this is not an ELF file at all, just text\n');
  const truncated = join(tmp, 'truncated.elf');
  writeFileSync(truncated, hello.subarray(0, 100));
  const noNote = join(tmp, 'nonote.elf');
  // The same image with every "Xen" note name defaced is no longer a PVH kernel.
  writeFileSync(noNote, Buffer.from(hello.toString('latin1').replaceAll('Xen\0', 'Nex\0'), 'latin1'));
  const cases: Array<[string[], RegExp]> = [
    [['run', join(tmp, 'missing.elf')], /cannot read kernel/],
    [['run', tmp], /not a regular file/],
    [['run', notElf], /not an ELF/i],
    [['run', truncated], /truncated|past the end|outside the file/i],
    [['run', noNote], /PVH/],
    [['run', guestPath('hello'), '--module', join(tmp, 'nope')], /cannot read module/],
  ];
  for (const [args, msg] of cases) {
    const r = await pvkvm(args);
    t.equal(r.code, EXIT.error, `${args.join(' ')} → error`);
    oneLine(t, r.stderr);
    t.match(r.stderr, msg);
  }
});

t.test('--timeout destroys a spinning guest with exit 124', kvmTest(), async (t) => {
  // A run that hangs is killed by the helper's safety timeout and fails the exit-code check.
  for (const mode of ['busy', 'hlt']) {
    const r = await pvkvm(['run', guestPath('spin'), '--timeout', '1', '--cmdline', `mode=${mode}`]);
    t.equal(r.code, EXIT.timeout, `mode=${mode}: ${r.stderr}`);
    t.match(r.stderr, /timed out after 1 s/);
  }
});

t.test('a triple fault is reported with its rip and exit 16', kvmTest(), async (t) => {
  const r = await runGuest('triplefault');
  t.equal(r.code, EXIT.fault);
  t.match(r.stderr, /faulted on vCPU 0 at rip 0x[0-9a-f]+: triple-fault/);
});

t.test('modules and the command line reach the guest', kvmTest(), async (t) => {
  const mod = join(tmp, 'module.bin');
  const data = Buffer.alloc(10000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
  writeFileSync(mod, data);
  let sum = 0;
  for (const b of data) sum = (Math.imul(sum, 31) + b) >>> 0;
  const r = await runGuest('hello', ['--cmdline', 'hello=world', '--module', mod]);
  t.equal(r.code, 0);
  t.match(r.stdout, /hello=world/);
  t.match(r.stdout, new RegExp(`module 0: 10000 bytes at 0x[0-9a-f]+000, checksum ${sum.toString(16).padStart(8, '0')}`),
    'the module arrives intact and page-aligned');
});
