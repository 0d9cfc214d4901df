// save-file.ts: the layout of a `pvkvm save` file (docs/save-format.md) — header, sections, the
// memory section's page runs — and a reader that treats every byte as hostile: bounded sizes,
// checked fields, one-line errors (SaveFileError) for a bad or truncated file.
export const SAVE_MAGIC = 'PVKVMSAV';
/**
 * 2: the DOMAIN section's settings may list PV disks and vifs (re-created at restore, their
 * frontends reconnect) and HVSTATE carries the grant table. Version 1 files are still read.
 */
export const SAVE_VERSION = 2;
/** The oldest version this build restores. */
export const SAVE_VERSION_MIN = 1;
export const SAVE_HEADER_BYTES = 16;
export const SECTION_HEADER_BYTES = 16;
export const SAVE_PAGE = 4096;

/** Section types, in the order a writer emits them; END closes the file. */
export const SECTION = { DOMAIN: 1, XENSTORE: 2, HVSTATE: 3, MEMORY: 4, END: 0xffff } as const;
const NAMES: Record<number, string> = { 1: 'DOMAIN', 2: 'XENSTORE', 3: 'HVSTATE', 4: 'MEMORY', 0xffff: 'END' };
/** Largest payload per section type (MEMORY is bounded by the domain's memory size instead). */
export const SECTION_MAX: Record<number, number> = { 1: 1 << 20, 2: 4 << 20, 3: 4 << 20, 0xffff: 0 };

export class SaveFileError extends Error {}

export function fileHeader(): Uint8Array {
  const b = new Uint8Array(SAVE_HEADER_BYTES);
  b.set(new TextEncoder().encode(SAVE_MAGIC), 0);
  new DataView(b.buffer).setUint32(8, SAVE_VERSION, true);
  return b;
}

export function sectionHeader(type: number, length: number): Uint8Array {
  const b = new Uint8Array(SECTION_HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, true);
  v.setBigUint64(8, BigInt(length), true);
  return b;
}

/** A memory run: u64 first page (of the guest memory file), u32 page count, u32 zero; then the pages. */
export function runHeader(firstPage: number, count: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(firstPage), true);
  v.setUint32(8, count, true);
  return b;
}

export interface SectionRef { readonly type: number; readonly offset: number; readonly length: number }

/** Random access to the file (a file descriptor in practice). */
export type ReadAt = (offset: number, length: number) => Uint8Array;

/** Check the header and list the sections; `size` is the file's length. */
export function readSections(size: number, read: ReadAt, maxMemoryBytes: number): SectionRef[] {
  if (size < SAVE_HEADER_BYTES) throw new SaveFileError('not a pvkvm save file (too short)');
  const h = read(0, SAVE_HEADER_BYTES);
  if (new TextDecoder().decode(h.subarray(0, 8)) !== SAVE_MAGIC) throw new SaveFileError('not a pvkvm save file (bad magic)');
  const version = new DataView(h.buffer, h.byteOffset).getUint32(8, true);
  if (version < SAVE_VERSION_MIN || version > SAVE_VERSION) {
    throw new SaveFileError(`save file version ${version} is not supported (this pvkvm reads versions ${SAVE_VERSION_MIN} to ${SAVE_VERSION})`);
  }
  const out: SectionRef[] = [];
  let at = SAVE_HEADER_BYTES;
  for (;;) {
    if (at + SECTION_HEADER_BYTES > size) throw new SaveFileError('truncated save file (no END section)');
    const s = read(at, SECTION_HEADER_BYTES);
    const v = new DataView(s.buffer, s.byteOffset);
    const type = v.getUint32(0, true);
    const len64 = v.getBigUint64(8, true);
    const name = NAMES[type];
    if (name === undefined) throw new SaveFileError(`unknown section type ${type} at offset ${at}`);
    at += SECTION_HEADER_BYTES;
    if (len64 > BigInt(size - at)) throw new SaveFileError(`truncated save file (${name} section runs past the end)`);
    const max = type === SECTION.MEMORY ? maxMemoryBytes : SECTION_MAX[type]!;
    if (len64 > BigInt(max)) throw new SaveFileError(`${name} section is ${len64} bytes (at most ${max})`);
    const length = Number(len64);
    if (type === SECTION.END) break;
    if (out.some((x) => x.type === type)) throw new SaveFileError(`${name} section appears twice`);
    out.push({ type, offset: at, length });
    at += length;
  }
  for (const t of [SECTION.DOMAIN, SECTION.HVSTATE, SECTION.MEMORY]) {
    if (!out.some((x) => x.type === t)) throw new SaveFileError(`save file has no ${NAMES[t]} section`);
  }
  return out;
}

/**
 * Walk a MEMORY section's runs, checking each lies inside a memory file of `memBytes` and inside
 * the section; `page(fileOffset, bytes)` gets each run's data.
 */
export function forEachRun(sec: SectionRef, read: ReadAt, memBytes: number, run: (fileOffset: number, dataOffset: number, bytes: number) => void): void {
  let at = sec.offset;
  const end = sec.offset + sec.length;
  while (at < end) {
    if (at + 16 > end) throw new SaveFileError('MEMORY section: truncated run header');
    const h = read(at, 16);
    const v = new DataView(h.buffer, h.byteOffset);
    const first = v.getBigUint64(0, true);
    const count = v.getUint32(8, true);
    if (count === 0 || v.getUint32(12, true) !== 0) throw new SaveFileError(`MEMORY section: bad run header at offset ${at}`);
    const bytes = count * SAVE_PAGE;
    if (first > BigInt(memBytes / SAVE_PAGE) || Number(first) * SAVE_PAGE + bytes > memBytes) {
      throw new SaveFileError(`MEMORY section: run at page ${first} lies outside the domain's ${memBytes}-byte memory`);
    }
    if (at + 16 + bytes > end) throw new SaveFileError('MEMORY section: truncated run');
    run(Number(first) * SAVE_PAGE, at + 16, bytes);
    at += 16 + bytes;
  }
}
