// emulate-guests.test.ts: guests that run instructions KVM's emulator lacks on this host, one per
// class — LDMXCSR/STMXCSR, the x87 control instructions, INT n/INT3 and IRET in 64-bit and 32-bit
// code, and a guest built as ordinary x86-64 code (SSE2) whose float and vector results are
// recomputed here — plus a 32-bit guest that turns on paging without long mode, which must end
// with a report saying this host cannot run it.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { pvkvm, runGuest, testResult, ROOT } from './helpers/run-guest.ts';
import { EXIT } from '../cli/exit-codes.ts';

for (const name of ['emu-mxcsr', 'emu-x87', 'emu-int']) {
  t.test(`${name} guest`, kvmTest(), async (t) => {
    const r = await runGuest(name);
    t.equal(testResult(r.stdout), 'SUCCESS', `${name}: Test result`, { stdout: r.stdout, stderr: r.stderr });
    t.equal(r.code, EXIT.poweroff);
  });
}

t.test('an instruction outside the emulated set ends the domain with one line naming it', kvmTest(), async (t) => {
  const r = await runGuest('emu-x87', ['--cmdline', 'unsupported']);
  t.equal(r.code, EXIT.fault, 'ends as a fault', { stdout: r.stdout, stderr: r.stderr });
  t.notMatch(r.stdout, /FLD1 ran/);
  const report = r.stderr.split('\n').filter((l) => /faulted/.test(l));
  t.equal(report.length, 1, 'one line');
  t.match(report[0] ?? '', /at rip 0x[0-9a-f]+: emulation \(cannot emulate the instruction at rip \(bytes d9 e8[ 0-9a-f]*\) in 64-bit mode, CPL 0: (this form is )?not in the emulated set\)/);
});

const f32 = Math.fround;
const bits32 = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;
const bits64 = (x: number): bigint => new BigUint64Array(new Float64Array([x]).buffer)[0]!;
const fromBits32 = (u: number): number => new Float32Array(new Uint32Array([u]).buffer)[0]!;
const hex = (v: number | bigint, w: number): string => `0x${v.toString(16).padStart(w, '0')}`;

function fnv(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/**
 * A positive binary32 result rounded toward −∞ or +∞: round to nearest, then step once if that
 * landed on the wrong side. `side(r)` is the sign of r − (the exact result), computed exactly.
 */
function directed(approx: number, side: (r: number) => number, up: boolean): number {
  const r = f32(approx);
  const s = side(r);
  if (up && s < 0) return fromBits32(bits32(r) + 1);
  if (!up && s > 0) return fromBits32(bits32(r) - 1);
  return r;
}

/** What emu-sse prints, computed here with JavaScript's IEEE doubles (binary32 through fround). */
function expectedSse(): string[] {
  const n = 100;
  let hf = 0;
  let hd = 0;
  for (let i = 1; i <= n; i++) {
    hf = f32(hf + f32(1 / i));
    hd += 1 / i;
  }
  const y = new Float32Array(64);
  for (let i = 0; i < 64; i++) {
    const x = f32(f32(i * 0.25) + 1);
    y[i] = f32(f32(1.5 * x) + f32((64 - i) / 3));
  }
  const ic = new Int32Array(64);
  for (let i = 0; i < 64; i++) ic[i] = (i * 7 - 100) * 3 + (1000 - i * i);
  // third(): (1/100 in binary32) · 33 in binary32, in each rounding direction. A product of two
  // binary32 values is exact in a double, so r·100 against 1 gives the quotient's side exactly.
  const third = (up: boolean | null): number => {
    if (up === null) return f32(f32(1 / n) * 33);
    const q = directed(1 / n, (r) => Math.sign(r * n - 1), up);
    return directed(q * 33, (r) => Math.sign(r - q * 33), up);
  };
  return [
    `emu-sse: harmonic_f ${hex(bits32(hf), 8)}`,
    `emu-sse: harmonic_d ${hex(bits64(hd), 16)}`,
    `emu-sse: saxpy ${hex(fnv(new Uint8Array(y.buffer)), 8)}`,
    `emu-sse: ivec ${hex(fnv(new Uint8Array(ic.buffer)), 8)}`,
    `emu-sse: sqrt ${hex(bits64(Math.sqrt(2)), 16)} ${hex(bits32(f32(Math.sqrt(300))), 8)}`,
    `emu-sse: conv ${Math.trunc(2 * 1234.567)} ${Math.trunc((-2 * 1e9) / 3)} ${hex(bits32(f32(2 / 7)), 8)}`,
    `emu-sse: minmax ${hex(bits32(1.5), 8)} ${hex(bits32(2), 8)}`,
    `emu-sse: rounding ${hex(bits32(third(false)), 8)} ${hex(bits32(third(null)), 8)} ${hex(bits32(third(true)), 8)}`,
  ];
}

t.test('emu-sse: a guest built with SSE2 computes what the host computes', kvmTest(), async (t) => {
  const r = await runGuest('emu-sse');
  t.equal(testResult(r.stdout), 'SUCCESS', 'Test result', { stdout: r.stdout, stderr: r.stderr });
  t.equal(r.code, EXIT.poweroff);
  const printed = r.stdout.split('\n').filter((l) => l.startsWith('emu-sse: ') && !l.includes(' ok'));
  t.same(printed, expectedSse(), 'every printed result matches the host computation');
});

function tool(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { ok: r.error === undefined && r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const NO_BINUTILS = tool('as', ['--version']).ok && /elf_i386/.test(tool('ld', ['-V']).out) ? null : 'GNU as/ld for i386 are not installed';
const FIXTURE = join(ROOT, 'test', 'fixtures', 'emu32');
const skip32 = (): { skip: string | false } => (NO_BINUTILS !== null ? { skip: NO_BINUTILS } : kvmTest());

/** Assemble and link the 32-bit fixture (with `defsym`), returning the ELF's path. */
function build32(t: { ok: (v: unknown, m: string, e: { output: string }) => unknown }, dir: string, name: string, defsym: string[]): string {
  const obj = join(dir, `${name}.o`), elf = join(dir, `${name}.elf`);
  const as = tool('as', ['--32', ...defsym.flatMap((d) => ['--defsym', d]), '-o', obj, join(FIXTURE, 'guest32.s')]);
  t.ok(as.ok, `${name}: assembles`, { output: as.out });
  const ld = tool('ld', ['-m', 'elf_i386', '--no-warn-rwx-segments', '-T', join(FIXTURE, 'guest32.ld'), '-o', elf, obj]);
  t.ok(ld.ok, `${name}: links`, { output: ld.out });
  return elf;
}

t.test('32-bit guest: INT n, INT3, INTO and IRET in protected mode, to ring 3 and back', skip32(), async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-emu32-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const elf = build32(t, dir, 'emu32', []);
  const r = await pvkvm(['run', elf, '--timeout', '60'], { killAfterMs: 90_000 });
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.startsWith('emu32: '));
  t.same(lines, [
    'emu32: hello',
    'emu32: int 0x40 and iret ok',
    'emu32: int3 ok',
    'emu32: into ok',
    'emu32: iret to ring 3 ok',
    'emu32: back from ring 3, data segment nulled ok',
  ], 'every step, in order', { stdout: r.stdout, stderr: r.stderr });
  t.equal(r.code, EXIT.poweroff);
});

t.test('32-bit guest turning on paging without long mode: reported as unsupported here', skip32(), async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-emu32p-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const elf = build32(t, dir, 'emu32-paging', ['PAGING=1']);
  const r = await pvkvm(['run', elf, '--timeout', '60'], { killAfterMs: 90_000 });
  t.equal(r.code, EXIT.fault, 'ends as a fault', { stdout: r.stdout, stderr: r.stderr });
  t.match(r.stderr, /32-bit paging without long mode.*cannot run here/, 'the report says why');
  t.notMatch(r.stdout, /paging on/, 'the guest never ran paged');
});
