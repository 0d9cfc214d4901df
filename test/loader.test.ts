// loader.test.ts: the PVH ELF loader on real toolchain output, synthesized edge cases and fuzzed input.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XEN_ELFNOTE } from '../abi/start-info.ts';
import { EM_386, EM_X86_64, loadElf, parseElf, xenNoteNumeric, type ElfImage } from '../hypervisor/boot/elf.ts';
import { ImageError } from '../hypervisor/boot/image-error.ts';

const NAME = 'guest.elf';
const MIB = 1024 * 1024;
const N = XEN_ELFNOTE.values;

// ---------------------------------------------------------------------------------------------
// Toolchain-built guests (built once per run into a temporary directory).

const dir = mkdtempSync(join(tmpdir(), 'pvkvm-loader-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function symbols(elf: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of run('nm', [elf]).split('\n')) {
    const m = /^([0-9a-f]+) \w (\S+)$/.exec(line.trim());
    if (m) out.set(m[2], parseInt(m[1], 16));
  }
  return out;
}

// The PVH entry note names a label other than ELF's e_entry, so the test sees which one is used.
const XEN_NOTE_ASM = (label: string): string => `
	.section .note.Xen, "a", @note
	.balign 4
	.long 4f - 3f
	.long 6f - 5f
	.long ${N.PHYS32_ENTRY}
3:	.asciz "Xen"
4:	.balign 4
5:	.long ${label}
6:	.balign 4
`;

const G64_ASM = `${XEN_NOTE_ASM('pvh_entry')}
	.text
	.code32
	.globl elf_entry, pvh_entry
elf_entry:
	hlt
pvh_entry:
	cli
	hlt
	jmp pvh_entry
	.data
	.globl marker
marker:	.ascii "PVKVM-DATA-0123456789"
	.bss
	.globl bss_start
bss_start:
	.space 0x2345
`;

// Text and data in separate PT_LOADs, notes in their own PT_NOTE.
const G64_LD = `
OUTPUT_FORMAT("elf64-x86-64")
ENTRY(elf_entry)
PHDRS { text PT_LOAD FLAGS(5); data PT_LOAD FLAGS(6); note PT_NOTE FLAGS(4); }
SECTIONS {
  . = 0x100000;
  .text : { *(.text) } :text
  .note.Xen : { *(.note.Xen) } :text :note
  . = ALIGN(0x1000);
  .data : { *(.data) } :data
  .bss : { *(.bss) } :data
  _end = .;
  /DISCARD/ : { *(.note.gnu.property) }
}
`;

const G32_ASM = `${XEN_NOTE_ASM('pvh_entry')}
	.text
	.code32
	.globl _start, pvh_entry
_start:	hlt
pvh_entry:
	cli
	hlt
	.data
	.globl marker
marker:	.ascii "I386-DATA"
	.bss
	.space 100
`;

// One PT_LOAD only: the Xen note is reachable solely through its SHT_NOTE section.
const G32_LD = `
OUTPUT_FORMAT("elf32-i386")
ENTRY(_start)
PHDRS { all PT_LOAD FLAGS(7); }
SECTIONS {
  . = 0x200000;
  .text : { *(.text) } :all
  .note.Xen : { *(.note.Xen) } :all
  .data : { *(.data) } :all
  .bss : { *(.bss) } :all
  _end = .;
  /DISCARD/ : { *(.note.gnu.property) }
}
`;

function buildGuest(stem: string, asm: string, script: string, bits: 32 | 64): string {
  writeFileSync(join(dir, `${stem}.S`), asm);
  writeFileSync(join(dir, `${stem}.ld`), script);
  if (bits === 64) run('gcc', ['-c', '-o', `${stem}.o`, `${stem}.S`]);
  else run('as', ['--32', '-o', `${stem}.o`, `${stem}.S`]);
  run('ld', [...(bits === 32 ? ['-m', 'elf_i386'] : []), '-nostdlib', '-T', `${stem}.ld`, '-o', `${stem}.elf`, `${stem}.o`]);
  return join(dir, `${stem}.elf`);
}

const g64Path = buildGuest('g64', G64_ASM, G64_LD, 64);
const g32Path = buildGuest('g32', G32_ASM, G32_LD, 32);
const g64 = new Uint8Array(readFileSync(g64Path));
const g32 = new Uint8Array(readFileSync(g32Path));

/** The few assertions isImageError needs; structural so it accepts any tap (sub)test. */
interface Asserts {
  fail(msg: string): unknown;
  equal(found: unknown, wanted: unknown, msg: string): unknown;
  match(found: unknown, wanted: RegExp): unknown;
}

function isImageError(t: Asserts, fn: () => unknown, code: string, message?: RegExp | string): void {
  try {
    fn();
    t.fail(`expected ImageError ${code}, got success`);
  } catch (e) {
    if (!(e instanceof ImageError)) {
      t.fail(`expected ImageError ${code}, got ${String(e)}`);
      return;
    }
    t.equal(e.code, code, `code ${code} (${e.message})`);
    if (typeof message === 'string') t.equal(e.message, message, 'message');
    else if (message) t.match(e.message, message);
  }
}

t.test('ELF64 from gcc/ld: PT_NOTE entry, segments copied, bss zeroed', async (t) => {
  const sym = symbols(g64Path);
  const img = parseElf(g64, NAME);
  t.equal(img.bits, 64);
  t.equal(img.machine, EM_X86_64);
  t.equal(img.notesFrom, 'segment');
  t.equal(img.entry, sym.get('pvh_entry'), 'entry comes from the PHYS32_ENTRY note');
  t.equal(img.elfEntry, BigInt(sym.get('elf_entry')!));
  t.not(img.entry, Number(img.elfEntry), 'note entry differs from e_entry');
  t.equal(img.segments.length, 2);
  t.equal(img.reloc, null);

  const ram = new Uint8Array(4 * MIB).fill(0xaa);
  const { entry, imageEnd } = loadElf(img, ram);
  t.equal(entry, sym.get('pvh_entry'));
  t.equal(imageEnd, sym.get('_end'), 'imageEnd is the end of bss');

  for (const s of img.segments) {
    t.same(ram.subarray(s.paddr, s.paddr + s.filesz), g64.subarray(s.offset, s.offset + s.filesz), `segment ${s.index} bytes`);
  }
  const marker = sym.get('marker')!;
  t.equal(Buffer.from(ram.subarray(marker, marker + 21)).toString('latin1'), 'PVKVM-DATA-0123456789');
  const bss = sym.get('bss_start')!;
  t.ok(ram.subarray(bss, bss + 0x2345).every((b) => b === 0), 'bss zeroed over the 0xAA fill');
  t.equal(ram[imageEnd], 0xaa, 'nothing written past imageEnd');
  t.equal(ram[0x100000 - 1], 0xaa, 'nothing written below the image');
  // The hlt at pvh_entry+1 (after cli = 0xfa).
  t.equal(ram[entry], 0xfa);
});

t.test('ELF32 from as --32/ld -m elf_i386: entry only in an SHT_NOTE section', async (t) => {
  const phdrs = run('readelf', ['-lW', g32Path]);
  t.notMatch(phdrs, /\bNOTE\b/, 'fixture has no PT_NOTE segment');
  const sym = symbols(g32Path);
  const img = parseElf(g32, NAME);
  t.equal(img.bits, 32);
  t.equal(img.machine, EM_386);
  t.equal(img.notesFrom, 'section');
  t.equal(img.entry, sym.get('pvh_entry'));
  const ram = new Uint8Array(4 * MIB).fill(0xaa);
  const { imageEnd } = loadElf(img, ram);
  t.equal(imageEnd, sym.get('_end'));
  const marker = sym.get('marker')!;
  t.equal(Buffer.from(ram.subarray(marker, marker + 9)).toString('latin1'), 'I386-DATA');
  t.ok(ram.subarray(imageEnd - 100, imageEnd).every((b) => b === 0), 'bss zeroed');
});

// ---------------------------------------------------------------------------------------------
// Synthesized ELF files, for cases a toolchain will not produce.

interface SynthNote { type: number; desc: Uint8Array; name?: string }
interface SynthSeg { paddr: number; data: Uint8Array; memsz?: number }
interface SynthOpts {
  bits: 32 | 64;
  machine?: number;
  type?: number;
  segments: SynthSeg[];
  notes: SynthNote[];
  notesIn: 'segment' | 'section';
  /** The note area's alignment (p_align / sh_addralign): 4, or 8 as toolchains emit for GNU property notes. */
  noteAlign?: 4 | 8;
}

function u32le(...vals: number[]): Uint8Array {
  const b = new Uint8Array(vals.length * 4);
  const v = new DataView(b.buffer);
  vals.forEach((x, i) => v.setUint32(i * 4, x, true));
  return b;
}

function noteBlob(notes: SynthNote[], align: 4 | 8 = 4): Uint8Array {
  const parts: number[] = [];
  const pad = (a: number[]): void => { while (a.length % align) a.push(0); };
  for (const n of notes) {
    const name = [...Buffer.from(`${n.name ?? 'Xen'}\0`, 'latin1')];
    parts.push(...u32le(name.length, n.desc.length, n.type));
    parts.push(...name);
    pad(parts);
    parts.push(...n.desc);
    pad(parts);
  }
  return Uint8Array.from(parts);
}

function synthElf(o: SynthOpts): Uint8Array {
  const is64 = o.bits === 64;
  const ehsize = is64 ? 64 : 52;
  const phent = is64 ? 56 : 32;
  const shent = is64 ? 64 : 40;
  const noteAlign = o.noteAlign ?? 4;
  const notes = noteBlob(o.notes, noteAlign);
  const phnum = o.segments.length + (o.notesIn === 'segment' ? 1 : 0);
  let off = ehsize + phnum * phent;
  const segOff = o.segments.map((s) => { const at = off; off += s.data.length; return at; });
  off = Math.ceil(off / noteAlign) * noteAlign;
  const noteOff = off;
  off += notes.length;
  off = Math.ceil(off / 8) * 8;
  const shoff = o.notesIn === 'section' ? off : 0;
  const shnum = o.notesIn === 'section' ? 2 : 0;
  const size = off + shnum * shent;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  const word = (at: number, x: number): void => {
    if (is64) v.setBigUint64(at, BigInt(x), true); else v.setUint32(at, x, true);
  };
  b.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  v.setUint16(16, o.type ?? 2, true);
  v.setUint16(18, o.machine ?? (is64 ? EM_X86_64 : EM_386), true);
  v.setUint32(20, 1, true);
  word(24, 0xdead);
  word(is64 ? 32 : 28, ehsize);
  word(is64 ? 40 : 32, shoff);
  v.setUint16(is64 ? 52 : 40, ehsize, true);
  v.setUint16(is64 ? 54 : 42, phent, true);
  v.setUint16(is64 ? 56 : 44, phnum, true);
  v.setUint16(is64 ? 58 : 46, shent, true);
  v.setUint16(is64 ? 60 : 48, shnum, true);
  const phdr = (i: number, type: number, offset: number, paddr: number, filesz: number, memsz: number): void => {
    const at = ehsize + i * phent;
    v.setUint32(at, type, true);
    if (is64) {
      v.setUint32(at + 4, 7, true);
      word(at + 8, offset); word(at + 16, paddr); word(at + 24, paddr);
      word(at + 32, filesz); word(at + 40, memsz); word(at + 48, type === 4 ? noteAlign : 4);
    } else {
      word(at + 4, offset); word(at + 8, paddr); word(at + 12, paddr);
      word(at + 16, filesz); word(at + 20, memsz); word(at + 24, 7); word(at + 28, type === 4 ? noteAlign : 4);
    }
  };
  o.segments.forEach((s, i) => {
    b.set(s.data, segOff[i]);
    phdr(i, 1, segOff[i], s.paddr, s.data.length, s.memsz ?? s.data.length);
  });
  b.set(notes, noteOff);
  if (o.notesIn === 'segment') phdr(o.segments.length, 4, noteOff, 0, notes.length, notes.length);
  else {
    const at = shoff + shent; // section 1; section 0 stays SHT_NULL
    v.setUint32(at + 4, 7, true);
    word(at + (is64 ? 24 : 16), noteOff);
    word(at + (is64 ? 32 : 20), notes.length);
    word(at + (is64 ? 48 : 32), noteAlign);
  }
  return b;
}

const code = Uint8Array.from([0xfa, 0xf4, 0xeb, 0xfd]);
const entryNote = (entry: number): SynthNote => ({ type: N.PHYS32_ENTRY, desc: u32le(entry) });

t.test('synthesized: entry 0 is valid, in both classes and both note places', async (t) => {
  for (const bits of [32, 64] as const) {
    for (const notesIn of ['segment', 'section'] as const) {
      const img = parseElf(synthElf({ bits, segments: [{ paddr: 0, data: code }], notes: [entryNote(0)], notesIn }), NAME);
      t.equal(img.entry, 0, `ELF${bits} ${notesIn}`);
      t.equal(img.notesFrom, notesIn);
      const ram = new Uint8Array(MIB).fill(0xaa);
      t.same(loadElf(img, ram), { entry: 0, imageEnd: 4 });
      t.same(ram.subarray(0, 4), code);
    }
  }
});

t.test('synthesized: 8-byte entry, PHYS32_RELOC, other Xen notes kept, foreign notes ignored', async (t) => {
  const entry8 = new Uint8Array(8);
  new DataView(entry8.buffer).setBigUint64(0, 0x123456n, true);
  const img = parseElf(synthElf({
    bits: 64, segments: [{ paddr: 0x100000, data: code, memsz: 0x3000 }], notesIn: 'segment',
    notes: [
      { type: N.PHYS32_ENTRY, desc: u32le(0x999), name: 'GNU' }, // same type, wrong owner
      { type: N.GUEST_OS, desc: Uint8Array.from(Buffer.from('linux\0')) },
      { type: N.PHYS32_ENTRY, desc: entry8 },
      { type: N.PHYS32_RELOC, desc: u32le(0x1000, 0x100000, 0x40000000) },
    ],
  }), NAME);
  t.equal(img.entry, 0x123456);
  t.same(img.reloc, { align: 0x1000, min: 0x100000, max: 0x40000000 });
  t.equal(Buffer.from(img.xenNotes.get(N.GUEST_OS)!).toString(), 'linux\0');
  t.equal(xenNoteNumeric(img.xenNotes.get(N.PHYS32_ENTRY)!), 0x123456n);
  const ram = new Uint8Array(2 * MIB).fill(0xaa);
  t.equal(loadElf(img, ram).imageEnd, 0x103000);
  t.ok(ram.subarray(0x100004, 0x103000).every((b) => b === 0), 'memsz beyond filesz zeroed');

  const partial = parseElf(synthElf({
    bits: 32, segments: [{ paddr: 0x100000, data: code }], notesIn: 'section',
    notes: [entryNote(0x100000), { type: N.PHYS32_RELOC, desc: u32le(0x400000) }],
  }), NAME);
  t.same(partial.reloc, { align: 0x400000, min: 0, max: 0xffffffff }, 'missing RELOC fields take defaults');
});

t.test('bad images fail with a clear ImageError', async (t) => {
  isImageError(t, () => parseElf(new Uint8Array(0), NAME), 'NOT_ELF', 'guest.elf: not an ELF file');
  const badMagic = g64.slice();
  badMagic[1] = 0x46;
  isImageError(t, () => parseElf(badMagic, NAME), 'NOT_ELF', 'guest.elf: not an ELF file');

  const arm = g64.slice();
  new DataView(arm.buffer).setUint16(18, 183, true); // EM_AARCH64
  isImageError(t, () => parseElf(arm, NAME), 'UNSUPPORTED', /unsupported machine 183/);
  const be = g64.slice();
  be[5] = 2;
  isImageError(t, () => parseElf(be, NAME), 'UNSUPPORTED', /big-endian/);
  const rel = g64.slice();
  rel[16] = 1; // ET_REL
  isImageError(t, () => parseElf(rel, NAME), 'UNSUPPORTED', /not an executable/);

  isImageError(t, () => parseElf(synthElf({
    bits: 64, segments: [{ paddr: 0x100000, data: code }], notesIn: 'segment',
    notes: [{ type: N.GUEST_OS, desc: Uint8Array.from(Buffer.from('x\0')) }],
  }), NAME), 'NOT_PVH', 'guest.elf: no XEN_ELFNOTE_PHYS32_ENTRY note (not a PVH kernel)');
  isImageError(t, () => parseElf(synthElf({
    bits: 32, segments: [{ paddr: 0x100000, data: code }], notesIn: 'section', notes: [],
  }), NAME), 'NOT_PVH');
  isImageError(t, () => parseElf(synthElf({
    bits: 64, segments: [{ paddr: 0x100000, data: code }], notesIn: 'segment',
    notes: [{ type: N.PHYS32_ENTRY, desc: Uint8Array.of(1, 2) }],
  }), NAME), 'BAD_NOTE', /2-byte descriptor/);
  const hugeEntry = new Uint8Array(8);
  new DataView(hugeEntry.buffer).setBigUint64(0, 0x100000000n, true);
  isImageError(t, () => parseElf(synthElf({
    bits: 64, segments: [{ paddr: 0x100000, data: code }], notesIn: 'segment',
    notes: [{ type: N.PHYS32_ENTRY, desc: hugeEntry }],
  }), NAME), 'BAD_NOTE', /not a 32-bit address/);

  isImageError(t, () => parseElf(synthElf({
    bits: 64, segments: [{ paddr: 0x100000, data: code, memsz: 2 }], notesIn: 'segment', notes: [entryNote(0)],
  }), NAME), 'MALFORMED', /file size 0x4 exceeds memory size 0x2/);
  isImageError(t, () => parseElf(synthElf({
    bits: 32, segments: [{ paddr: 0x100000, data: code, memsz: 0x2000 }, { paddr: 0x101000, data: code }],
    notesIn: 'segment', notes: [entryNote(0)],
  }), NAME), 'MALFORMED', /segments 0 and 1 overlap at 0x101000/);
  isImageError(t, () => parseElf(synthElf({
    bits: 32, segments: [{ paddr: 0xfffff000, data: code, memsz: 0x2000 }], notesIn: 'segment', notes: [entryNote(0)],
  }), NAME), 'MALFORMED', /past 4 GiB/);

  // A note record whose descsz runs past its segment.
  const overrun = synthElf({ bits: 64, segments: [{ paddr: 0x100000, data: code }], notesIn: 'segment', notes: [entryNote(0)] });
  const noteAt = 64 + 2 * 56 + code.length;
  new DataView(overrun.buffer).setUint32(noteAt + 4, 0x1000, true);
  isImageError(t, () => parseElf(overrun, NAME), 'BAD_NOTE', /overruns/);

  // Program header pointing at file data that is not there.
  const farSeg = g64.slice();
  const fv = new DataView(farSeg.buffer);
  const phoff = Number(fv.getBigUint64(32, true));
  fv.setBigUint64(phoff + 8, BigInt(g64.length), true); // p_offset of segment 0 = EOF
  isImageError(t, () => parseElf(farSeg, NAME), 'TRUNCATED', /segment 0 .* extends past end of file/);
  const farPh = g64.slice();
  new DataView(farPh.buffer).setBigUint64(32, 2n ** 63n, true);
  isImageError(t, () => parseElf(farPh, NAME), 'TRUNCATED', 'guest.elf: truncated program header table');
  const farSh = g64.slice();
  new DataView(farSh.buffer).setBigUint64(40, BigInt(g64.length - 10), true);
  isImageError(t, () => parseElf(farSh, NAME), 'TRUNCATED', 'guest.elf: truncated section header table');
});

t.test('truncated files fail with TRUNCATED or NOT_ELF', async (t) => {
  const v = new DataView(g64.buffer, g64.byteOffset);
  const phoff = Number(v.getBigUint64(32, true));
  const shoff = Number(v.getBigUint64(40, true));
  const cuts: [number, string][] = [
    [0, 'NOT_ELF'], [3, 'NOT_ELF'], [15, 'NOT_ELF'], [16, 'TRUNCATED'], [40, 'TRUNCATED'], [63, 'TRUNCATED'],
    [phoff + 10, 'TRUNCATED'], [0x1002, 'TRUNCATED'], [shoff - 1, 'TRUNCATED'], [g64.length - 1, 'TRUNCATED'],
  ];
  for (const [cut, code] of cuts) {
    isImageError(t, () => parseElf(g64.subarray(0, cut), NAME), code);
  }
  const g32v = new DataView(g32.buffer, g32.byteOffset);
  isImageError(t, () => parseElf(g32.subarray(0, g32v.getUint32(28, true) + 5), NAME), 'TRUNCATED',
    'guest.elf: truncated program header table');
});

t.test('loadElf rejects segments outside RAM and leaves RAM untouched', async (t) => {
  const img = parseElf(g64, NAME);
  const small = new Uint8Array(MIB + 0x1000).fill(0xaa); // text fits, data at 0x101000 does not
  isImageError(t, () => loadElf(img, small), 'OUT_OF_RAM', /segment 1 \[0x101000, 0x10335a\) does not fit in guest RAM/);
  t.ok(small.every((b) => b === 0xaa), 'no partial load');
  isImageError(t, () => loadElf(img, new Uint8Array(4 * MIB), { reservedBelow: 0x200000 }), 'OUT_OF_RAM',
    /segment 0 \[0x100000, .*reserved region below 0x200000/);
  const farEntry = parseElf(synthElf({
    bits: 64, segments: [{ paddr: 0x1000, data: code }], notesIn: 'segment', notes: [entryNote(0x300000)],
  }), NAME);
  isImageError(t, () => loadElf(farEntry, new Uint8Array(2 * MIB)), 'OUT_OF_RAM', /entry point 0x300000/);
});

// ---------------------------------------------------------------------------------------------
// Fuzz: corrupted images may load or be rejected, but only ever with an ImageError.

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

t.test('fuzz: random byte flips and truncation raise only ImageError', async (t) => {
  const seed = 0x5eed1234;
  const rnd = xorshift(seed);
  const bases: Uint8Array[] = [
    g64, g32,
    synthElf({ bits: 64, segments: [{ paddr: 0x1000, data: code, memsz: 0x100 }], notesIn: 'section', notes: [entryNote(0x1000)] }),
  ];
  const ram = new Uint8Array(4 * MIB);
  let ok = 0;
  let rejected = 0;
  const failures: string[] = [];
  for (let i = 0; i < 500; i++) {
    const base = bases[i % bases.length];
    let img = base.slice();
    const flips = 1 + Math.floor(rnd() * 8);
    for (let k = 0; k < flips; k++) {
      // Half the flips hit the headers, where the parser's decisions are made.
      const limit = rnd() < 0.5 ? Math.min(256, img.length) : img.length;
      const at = Math.floor(rnd() * limit);
      img[at] = rnd() < 0.3 ? 0xff : img[at] ^ (1 << Math.floor(rnd() * 8));
    }
    if (rnd() < 0.3) img = img.subarray(0, Math.floor(rnd() * img.length));
    try {
      const parsed: ElfImage = parseElf(img, NAME);
      loadElf(parsed, ram);
      ok++;
    } catch (e) {
      if (e instanceof ImageError && e.message.startsWith(`${NAME}: `)) rejected++;
      else failures.push(`iteration ${i} (seed ${seed}): ${String(e)}`);
    }
  }
  t.same(failures, [], 'only ImageError escapes');
  t.ok(rejected > 100, `many mutations rejected (${rejected})`);
  t.ok(ok > 0, `some mutations still load (${ok})`);
});

t.test('synthesized: notes in an 8-aligned area (a GNU property note first), in a segment and a section', async (t) => {
  // NT_GNU_PROPERTY_TYPE_0 (5) owned by "GNU": a 4-byte name whose descriptor starts 8-aligned,
  // at offset 16 of the record, as toolchains emit it.
  const gnuProperty: SynthNote = { type: 5, name: 'GNU', desc: u32le(0xc0000002, 4, 3, 0) };
  for (const bits of [32, 64] as const) {
    for (const notesIn of ['segment', 'section'] as const) {
      for (const noteAlign of [4, 8] as const) {
        const img = parseElf(synthElf({
          bits, segments: [{ paddr: 0x100000, data: code }], notesIn, noteAlign,
          notes: [gnuProperty, entryNote(0x100000), { type: N.GUEST_OS, desc: Uint8Array.from(Buffer.from('pvh\0')) }],
        }), NAME);
        t.equal(img.entry, 0x100000, `ELF${bits}, ${noteAlign}-aligned notes in a ${notesIn}: entry found`);
        t.equal(Buffer.from(img.xenNotes.get(N.GUEST_OS)!).toString(), 'pvh\0', 'the note after it is read at the right offset');
      }
    }
  }
});

t.test('an ordinary program is "not a PVH kernel", not a malformed note', async (t) => {
  // Any host executable will do: Debian's are built with 8-aligned GNU property notes.
  const prog = ['/bin/true', '/usr/bin/true'].find((p) => existsSync(p)) ?? process.execPath;
  const bytes = new Uint8Array(readFileSync(prog));
  t.throws(() => parseElf(bytes, prog), { code: 'NOT_PVH' });
});
