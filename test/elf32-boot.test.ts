// elf32-boot.test.ts: ELF32 PVH guests that stay in 32-bit non-paged mode boot and make hypercalls.
//
// Other people's PVH kernels may be EM_386 images that never leave the non-paged 32-bit entry
// mode, put their entry note only in a section, or start at physical address 0. The fixture in
// test/fixtures/elf32/ is assembled here (no binaries are committed) in two variants:
//   a  linked at 1 MiB, PHYS32_ENTRY only in an SHT_NOTE section (no PT_NOTE), powers off (0)
//   b  linked at 0, entry 0, note in a PT_NOTE segment, reboots (exit 11)
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { pvkvm, ROOT } from './helpers/run-guest.ts';
import { EXIT } from '../cli/exit-codes.ts';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'elf32');
const CI = process.env.CI === 'true';

interface Variant {
  readonly name: string;
  readonly defsym: string;
  readonly script: string;
  readonly exitCode: number;
  readonly reasonLine: string;
}

const VARIANTS: readonly Variant[] = [
  { name: 'a', defsym: 'VARIANT_B=0', script: 'note-section.ld', exitCode: EXIT.poweroff, reasonLine: 'elf32: shutdown reason 0' },
  { name: 'b', defsym: 'VARIANT_B=1', script: 'at-zero.ld', exitCode: EXIT.reboot, reasonLine: 'elf32: shutdown reason 1' },
];

/** Every line the guest prints on the way to its shutdown, in order. */
const MARKERS = [
  'elf32: hello',
  'elf32: start_info ok',
  'elf32: start_info after image',
  'elf32: bss zero ok',
  'elf32: xen cpuid ok',
  'elf32: hypercall page ok',
  'elf32: console_io ok',
  'elf32: xen_version 4.17',
];

function tool(cmd: string, args: string[], cwd?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { ok: r.error === undefined && r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Why the GNU 32-bit assembler and linker cannot be used here, or null when they can. */
function binutilsProblem(): string | null {
  if (!tool('as', ['--version']).ok) return '`as` (GNU binutils) is not installed';
  const ld = tool('ld', ['-V']);
  if (!ld.ok) return '`ld` (GNU binutils) is not installed';
  if (!/elf_i386/.test(ld.out)) return '`ld` cannot link elf_i386';
  return null;
}

const NO_BINUTILS = binutilsProblem();
if (CI && NO_BINUTILS) t.fail(`${NO_BINUTILS} (required under CI=true)`);

t.test('32-bit PVH guests built from assembly', { skip: NO_BINUTILS ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-elf32-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const built = new Map<string, string>();
  for (const v of VARIANTS) {
    const obj = join(dir, `elf32-${v.name}.o`);
    const elf = join(dir, `elf32-${v.name}.elf`);
    const as = tool('as', ['--32', '--defsym', v.defsym, '-o', obj, join(FIXTURES, 'guest32.s')]);
    t.ok(as.ok, `variant ${v.name}: assembles`, { output: as.out });
    // ld warns about the single RWX segment; that is the point of the fixture, not a problem.
    const ld = tool('ld', ['-m', 'elf_i386', '-T', join(FIXTURES, v.script), '-o', elf, obj]);
    t.ok(ld.ok, `variant ${v.name}: links`, { output: ld.out });
    if (as.ok && ld.ok) built.set(v.name, elf);
  }

  t.test('the images have the shape the test relies on', async (t) => {
    for (const v of VARIANTS) {
      const elf = built.get(v.name);
      if (elf === undefined) { t.fail(`variant ${v.name} was not built`); continue; }
      const h = tool('readelf', ['-hW', elf]);
      t.match(h.out, /Class:\s+ELF32/, `variant ${v.name}: ELF32`);
      t.match(h.out, /Machine:\s+Intel 80386/, `variant ${v.name}: EM_386`);
      const l = tool('readelf', ['-lW', elf]);
      t.ok(l.ok, `variant ${v.name}: readelf -lW`, { output: l.out });
      const loads = l.out.split('\n').filter((line) => /^\s+LOAD\s/.test(line));
      const notes = l.out.split('\n').filter((line) => /^\s+NOTE\s/.test(line));
      t.equal(loads.length, 1, `variant ${v.name}: one PT_LOAD`);
      if (v.name === 'a') {
        t.equal(notes.length, 0, 'variant a: no PT_NOTE program header (the note is only in a section)');
        t.match(loads[0] ?? '', /\s0x00100000\s+0x00100000\s/, 'variant a: loaded at 1 MiB');
        t.match(tool('readelf', ['-SW', elf]).out, /\.note\.Xen\s+NOTE\s/, 'variant a: the SHT_NOTE section is there');
      } else {
        t.equal(notes.length, 1, 'variant b: a PT_NOTE program header');
        t.match(loads[0] ?? '', /\s0x00000000\s+0x00000000\s/, 'variant b: loaded at physical address 0');
        t.match(h.out, /Entry point address:\s+0x0\b/, 'variant b: entry point 0');
      }
    }
  });

  for (const v of VARIANTS) {
    t.test(`variant ${v.name} boots, makes 32-bit hypercalls and shuts down`, kvmTest(), async (t) => {
      const elf = built.get(v.name);
      if (elf === undefined) { t.fail(`variant ${v.name} was not built`); return; }
      // The emulated 32-bit path is slow; allow for it beyond pvkvm's own --timeout.
      const r = await pvkvm(['run', elf, '--timeout', '60'], { killAfterMs: 90_000 });
      const lines = r.stdout.split('\n');
      let at = -1;
      for (const m of [...MARKERS, v.reasonLine]) {
        const i = lines.indexOf(m);
        t.ok(i > at, `prints "${m}" in order`, { stdout: r.stdout });
        if (i > at) at = i;
      }
      t.notMatch(r.stdout, /elf32: FAIL/, 'no failure line');
      t.equal(r.code, v.exitCode, `exit ${v.exitCode}\n${r.stderr}`);
    });
  }
});
