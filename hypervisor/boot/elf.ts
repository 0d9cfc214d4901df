// elf.ts: parse and load PVH kernels (ELF32/ELF64, x86, little-endian) into guest RAM.
//
// The image comes from the user, so every offset, size and count is checked against the file
// before it is used: a bad kernel fails with one ImageError naming the problem, never with a
// RangeError from a DataView. Segments are placed at their physical addresses (p_paddr), as Xen
// does for PVH: the guest starts with paging off, so virtual addresses mean nothing yet.
import { XEN_ELFNOTE } from '../../abi/start-info.ts';
import { ImageError, type ImageErrorCode } from './image-error.ts';

// ELF constants (System V gABI; not part of the Xen ABI, so they live here, not in abi/).
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
const ET_EXEC = 2;
const ET_DYN = 3;
export const EM_386 = 3;
export const EM_X86_64 = 62;
const PT_LOAD = 1;
const PT_NOTE = 4;
const SHT_NULL = 0;
const SHT_NOTE = 7;
const SHT_NOBITS = 8;
/** e_phnum value meaning "the real count is in section 0's sh_info". */
const PN_XNUM = 0xffff;

const FOUR_GIB = 2 ** 32;

/** One PT_LOAD segment with a non-zero memory size. */
export interface ElfSegment {
  /** Index in the program header table, for messages. */
  readonly index: number;
  readonly paddr: number;
  readonly offset: number;
  readonly filesz: number;
  readonly memsz: number;
  /** PF_X = 1, PF_W = 2, PF_R = 4. */
  readonly flags: number;
}

/** XEN_ELFNOTE_PHYS32_RELOC: the kernel may be loaded elsewhere within these bounds. */
export interface Phys32Reloc {
  readonly align: number;
  readonly min: number;
  readonly max: number;
}

export interface ElfImage {
  readonly name: string;
  readonly bits: 32 | 64;
  readonly machine: number;
  /** e_entry: a virtual address, informative only (PVH enters at `entry`). */
  readonly elfEntry: bigint;
  /** PT_LOAD segments with memsz > 0, in program-header order; checked not to overlap. */
  readonly segments: readonly ElfSegment[];
  /** XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit physical entry point (0 is a valid value). */
  readonly entry: number;
  readonly reloc: Phys32Reloc | null;
  /** Descriptor bytes of every Xen note found (first occurrence of each type wins). */
  readonly xenNotes: ReadonlyMap<number, Uint8Array>;
  /** Where the PHYS32_ENTRY note was found. */
  readonly notesFrom: 'segment' | 'section';
  /** The whole file; segments are views into it. */
  readonly data: Uint8Array;
}

export interface LoadOptions {
  /** Guest-physical addresses below this belong to the hypervisor; a segment there is an error. */
  readonly reservedBelow?: number;
}

export interface LoadResult {
  readonly entry: number;
  /** Highest paddr + memsz over all segments: boot data goes after this (bss included). */
  readonly imageEnd: number;
}

function hex(n: number): string {
  return Number.isFinite(n) ? `0x${n.toString(16)}` : '(beyond 2^53)';
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Little-endian field reads; 64-bit values past 2^53 become Infinity so bounds checks fail. */
class Reader {
  private readonly view: DataView;

  constructor(readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get size(): number {
    return this.data.byteLength;
  }

  u8(off: number): number {
    return this.view.getUint8(off);
  }

  u16(off: number): number {
    return this.view.getUint16(off, true);
  }

  u32(off: number): number {
    return this.view.getUint32(off, true);
  }

  u64(off: number): number {
    const v = this.view.getBigUint64(off, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  }

  u64big(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }

  /** A word of the file's class: u32 for ELF32, u64 for ELF64. */
  word(off: number, bits: 32 | 64): number {
    return bits === 32 ? this.u32(off) : this.u64(off);
  }
}

/** Field offsets that differ between the two classes. */
const EHDR = {
  32: { size: 52, entry: 24, phoff: 28, shoff: 32, phentsize: 42, phnum: 44, shentsize: 46, shnum: 48 },
  64: { size: 64, entry: 24, phoff: 32, shoff: 40, phentsize: 54, phnum: 56, shentsize: 58, shnum: 60 },
} as const;
const PHDR = {
  32: { size: 32, type: 0, offset: 4, paddr: 12, filesz: 16, memsz: 20, flags: 24, align: 28 },
  64: { size: 56, type: 0, flags: 4, offset: 8, paddr: 24, filesz: 32, memsz: 40, align: 48 },
} as const;
const SHDR = {
  32: { size: 40, type: 4, offset: 16, size_: 20, info: 28, addralign: 32 },
  64: { size: 64, type: 4, offset: 24, size_: 32, info: 44, addralign: 48 },
} as const;

interface NoteArea {
  readonly offset: number;
  readonly size: number;
  readonly align: number;
  readonly where: string;
}

/**
 * Parse a kernel image. Throws ImageError for anything that is not a loadable x86 PVH kernel.
 * ET_DYN is accepted as well as ET_EXEC: it is loaded at its p_paddr just the same.
 */
export function parseElf(image: Uint8Array, name: string): ElfImage {
  function fail(code: ImageErrorCode, what: string): never {
    throw new ImageError(code, `${name}: ${what}`);
  }
  const r = new Reader(image);

  if (r.size < 16 || ELF_MAGIC.some((b, i) => r.u8(i) !== b)) fail('NOT_ELF', 'not an ELF file');
  const cls = r.u8(4);
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) fail('UNSUPPORTED', `unknown ELF class ${cls}`);
  const bits: 32 | 64 = cls === ELFCLASS32 ? 32 : 64;
  const order = r.u8(5);
  if (order === ELFDATA2MSB) fail('UNSUPPORTED', 'big-endian ELF files are not supported');
  if (order !== ELFDATA2LSB) fail('UNSUPPORTED', `unknown ELF byte order ${order}`);
  const eh = EHDR[bits];
  if (r.size < eh.size) fail('TRUNCATED', 'truncated ELF header');

  const type = r.u16(16);
  if (type !== ET_EXEC && type !== ET_DYN) {
    fail('UNSUPPORTED', `not an executable (ELF type ${type})`);
  }
  const machine = r.u16(18);
  if (machine !== EM_386 && machine !== EM_X86_64) {
    fail('UNSUPPORTED', `unsupported machine ${machine} (need EM_386 or EM_X86_64)`);
  }
  const elfEntry = bits === 32 ? BigInt(r.u32(eh.entry)) : r.u64big(eh.entry);

  // With extended numbering (e_phnum == PN_XNUM) section 0 holds the real program header count,
  // so the section table is validated on first use; otherwise program headers are checked first.
  const sh = SHDR[bits];
  const shoff = r.word(eh.shoff, bits);
  const shentsize = r.u16(eh.shentsize);
  let shnumCache: number | null = null;
  function sectionCount(): number {
    if (shnumCache !== null) return shnumCache;
    let n = 0;
    if (shoff !== 0) {
      if (shentsize < sh.size) fail('MALFORMED', `bad section header entry size ${shentsize}`);
      if (shoff + shentsize > r.size) fail('TRUNCATED', 'truncated section header table');
      n = r.u16(eh.shnum);
      if (n === 0) n = r.word(shoff + sh.size_, bits);
      if (shoff + n * shentsize > r.size) fail('TRUNCATED', 'truncated section header table');
    }
    shnumCache = n;
    return n;
  }

  const ph = PHDR[bits];
  const phoff = r.word(eh.phoff, bits);
  const phentsize = r.u16(eh.phentsize);
  let phnum = r.u16(eh.phnum);
  if (phnum === PN_XNUM) {
    if (sectionCount() === 0) fail('MALFORMED', 'extended program header count without section headers');
    phnum = r.u32(shoff + sh.info);
  }
  if (phnum === 0 || phoff === 0) fail('MALFORMED', 'no program headers');
  if (phentsize < ph.size) fail('MALFORMED', `bad program header entry size ${phentsize}`);
  if (phoff + phnum * phentsize > r.size) fail('TRUNCATED', 'truncated program header table');
  const shnum = sectionCount();

  const segments: ElfSegment[] = [];
  const noteSegments: NoteArea[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const ptype = r.u32(at + ph.type);
    const offset = r.word(at + ph.offset, bits);
    const filesz = r.word(at + ph.filesz, bits);
    if (offset + filesz > r.size) {
      fail('TRUNCATED', `segment ${i} (file offset ${hex(offset)}, size ${hex(filesz)}) extends past end of file`);
    }
    if (ptype === PT_NOTE) {
      noteSegments.push({ offset, size: filesz, align: r.word(at + ph.align, bits), where: `note segment ${i}` });
    }
    if (ptype !== PT_LOAD) continue;
    const paddr = r.word(at + ph.paddr, bits);
    const memsz = r.word(at + ph.memsz, bits);
    if (filesz > memsz) {
      fail('MALFORMED', `segment ${i}: file size ${hex(filesz)} exceeds memory size ${hex(memsz)}`);
    }
    if (memsz === 0) continue;
    if (paddr + memsz > FOUR_GIB) {
      fail('MALFORMED', `segment ${i} at ${hex(paddr)} (size ${hex(memsz)}) extends past 4 GiB`);
    }
    segments.push({ index: i, paddr, offset, filesz, memsz, flags: r.u32(at + ph.flags) });
  }
  if (segments.length === 0) fail('MALFORMED', 'no loadable segments');
  const byAddr = [...segments].sort((a, b) => a.paddr - b.paddr);
  for (let k = 1; k < byAddr.length; k++) {
    const prev = byAddr[k - 1];
    const cur = byAddr[k];
    if (cur.paddr < prev.paddr + prev.memsz) {
      fail('MALFORMED', `segments ${prev.index} and ${cur.index} overlap at ${hex(cur.paddr)}`);
    }
  }

  const noteSections: NoteArea[] = [];
  for (let i = 1; i < shnum; i++) {
    const at = shoff + i * shentsize;
    const stype = r.u32(at + sh.type);
    if (stype === SHT_NULL || stype === SHT_NOBITS) continue;
    const offset = r.word(at + sh.offset, bits);
    const size = r.word(at + sh.size_, bits);
    if (offset + size > r.size) {
      fail('TRUNCATED', `section ${i} (file offset ${hex(offset)}, size ${hex(size)}) extends past end of file`);
    }
    if (stype === SHT_NOTE) {
      noteSections.push({ offset, size, align: r.word(at + sh.addralign, bits), where: `note section ${i}` });
    }
  }

  // Xen looks in PT_NOTE first; toolchains that drop PT_NOTE still keep the SHT_NOTE section.
  const ENTRY_NOTE = XEN_ELFNOTE.values.PHYS32_ENTRY;
  const notes = new Map<number, Uint8Array>();
  for (const area of noteSegments) scanNotes(r, area, notes, fail);
  let notesFrom: 'segment' | 'section' = 'segment';
  if (!notes.has(ENTRY_NOTE)) {
    notesFrom = 'section';
    for (const area of noteSections) scanNotes(r, area, notes, fail);
  }
  const entryDesc = notes.get(ENTRY_NOTE);
  if (entryDesc === undefined) fail('NOT_PVH', 'no XEN_ELFNOTE_PHYS32_ENTRY note (not a PVH kernel)');
  const entry = xenNoteNumeric(entryDesc);
  if (entry === null) {
    fail('BAD_NOTE', `PHYS32_ENTRY note has a ${entryDesc.length}-byte descriptor (want 4 or 8)`);
  }
  if (entry >= BigInt(FOUR_GIB)) fail('BAD_NOTE', `PHYS32_ENTRY 0x${entry.toString(16)} is not a 32-bit address`);

  return {
    name, bits, machine, elfEntry, segments, entry: Number(entry), notesFrom, data: image,
    reloc: parseReloc(notes.get(XEN_ELFNOTE.values.PHYS32_RELOC)),
    xenNotes: notes,
  };
}

/** Walk the note records of one area, keeping the first Xen note of each type. */
function scanNotes(
  r: Reader, area: NoteArea, notes: Map<number, Uint8Array>,
  fail: (code: 'BAD_NOTE', what: string) => never,
): void {
  // Records are padded to the area's alignment: 4 normally, 8 for 8-aligned (GNU property) notes.
  const align = area.align === 8 ? 8 : 4;
  const end = area.offset + area.size;
  let p = area.offset;
  // A tail shorter than a note header is padding, not a record.
  while (end - p >= 12) {
    const namesz = r.u32(p);
    const descsz = r.u32(p + 4);
    const type = r.u32(p + 8);
    const nameAt = p + 12;
    // The descriptor and the next record start at the next multiple of the alignment, counted
    // from the area's start (so an 8-aligned area pads "GNU\0" to 16 bytes after the header
    // start, not 8 bytes of name).
    const descAt = area.offset + alignUp(nameAt + namesz - area.offset, align);
    if (descAt + descsz > end) fail('BAD_NOTE', `${area.where}: note record overruns its container`);
    if (namesz === 4 && r.u8(nameAt) === 0x58 && r.u8(nameAt + 1) === 0x65
        && r.u8(nameAt + 2) === 0x6e && r.u8(nameAt + 3) === 0) {
      if (!notes.has(type)) notes.set(type, r.data.subarray(descAt, descAt + descsz));
    }
    p = area.offset + alignUp(descAt + descsz - area.offset, align);
  }
}

/** A numeric Xen note is a 4- or 8-byte little-endian value; anything else is not numeric. */
export function xenNoteNumeric(desc: Uint8Array): bigint | null {
  const v = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
  if (desc.length === 4) return BigInt(v.getUint32(0, true));
  if (desc.length === 8) return v.getBigUint64(0, true);
  return null;
}

/** Up to three u32s (align, min, max); missing ones take Xen's defaults. */
function parseReloc(desc: Uint8Array | undefined): Phys32Reloc | null {
  if (desc === undefined) return null;
  const v = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
  return {
    align: desc.length >= 4 ? v.getUint32(0, true) : 0x200000,
    min: desc.length >= 8 ? v.getUint32(4, true) : 0,
    max: desc.length >= 12 ? v.getUint32(8, true) : 0xffffffff,
  };
}

/**
 * Copy every PT_LOAD segment to `ram[paddr…]` and zero its bss. All segments are checked before
 * any byte is written, so a failed load leaves RAM untouched.
 */
export function loadElf(img: ElfImage, ram: Uint8Array, opts: LoadOptions = {}): LoadResult {
  const reservedBelow = opts.reservedBelow ?? 0;
  const mib = ram.length % 0x100000 === 0 ? `${ram.length / 0x100000} MiB` : `${hex(ram.length)} bytes`;
  let imageEnd = 0;
  for (const s of img.segments) {
    const end = s.paddr + s.memsz;
    const range = `segment ${s.index} [${hex(s.paddr)}, ${hex(end)})`;
    if (end > ram.length) {
      throw new ImageError('OUT_OF_RAM', `${img.name}: ${range} does not fit in guest RAM (${mib})`);
    }
    if (s.paddr < reservedBelow) {
      throw new ImageError('OUT_OF_RAM', `${img.name}: ${range} overlaps the reserved region below ${hex(reservedBelow)}`);
    }
    if (s.offset + s.filesz > img.data.length) {
      // Only reachable if the caller built an ElfImage by hand.
      throw new ImageError('TRUNCATED', `${img.name}: ${range} extends past end of file`);
    }
    imageEnd = Math.max(imageEnd, end);
  }
  if (img.entry >= ram.length) {
    throw new ImageError('OUT_OF_RAM', `${img.name}: entry point ${hex(img.entry)} lies outside guest RAM (${mib})`);
  }
  for (const s of img.segments) {
    ram.set(img.data.subarray(s.offset, s.offset + s.filesz), s.paddr);
    ram.fill(0, s.paddr + s.filesz, s.paddr + s.memsz);
  }
  return { entry: img.entry, imageEnd };
}
