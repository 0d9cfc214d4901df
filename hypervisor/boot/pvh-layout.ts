// pvh-layout.ts: the guest-physical memory map and where PVH boot data (hvm_start_info, cmdline, modules) goes.
//
// Guest RAM is one block [0, ramBytes) capped at maxGuestRamBytes, so it never reaches the special
// pages (console, xenstore) near 0xFF000000 or the MMIO hole below 4 GiB. The boot data is written
// right after the loaded image (whose bss holds our guests' stacks), never below 1 MiB, so a guest
// that treats low memory as legacy PC memory still finds it intact.
import { writeField } from '../../abi/layout.ts';
import { E820, HVM_START, HvmMemmapEntry, HvmModlistEntry, HvmStartInfo } from '../../abi/start-info.ts';
import { ImageError } from './image-error.ts';
import { GUEST_LIMITS, minGuestRamBytes, maxGuestRamBytes } from '../../abi/guest-limits.ts';

export const PAGE_SIZE = 4096;
const MIB = 1024 * 1024;
/** Boot data never goes below this (the legacy PC region), whatever the image's placement. */
const BOOT_DATA_MIN = 0x100000;
export const MAX_CMDLINE_BYTES = GUEST_LIMITS.maxCmdlineBytes;
/**
 * Special pages are reserved in aligned groups of 8 frames: libxenguest's special region is the
 * 8 frames ending at 0xFF000, so the default console/xenstore PFNs yield [0xFEFF8000, 0xFF000000).
 */
const SPECIAL_GROUP_PAGES = 8;

export interface SpecialPages {
  readonly consolePfn: number;
  readonly xenstorePfn: number;
}

/** One memory-map entry; addresses are below 4 GiB, so plain numbers are exact. */
export interface MemmapEntry {
  readonly addr: number;
  readonly size: number;
  /** E820.values.RAM, E820.values.RESERVED, … */
  readonly type: number;
}

export interface BootModule {
  readonly name: string;
  readonly data: Uint8Array;
  readonly cmdline?: string;
}

export interface BootLayoutInput {
  readonly ramBytes: number;
  /** End of the loaded image (loadElf's imageEnd), bss included. */
  readonly imageEnd: number;
  readonly cmdline: string;
  readonly modules: readonly BootModule[];
  readonly specialPages: SpecialPages;
}

export interface BootInfo {
  /** Guest-physical address of hvm_start_info: the value for EBX at entry. */
  readonly startInfoGpa: number;
  readonly memmap: MemmapEntry[];
  readonly cmdlineGpa: number;
  /** Where each module was placed, in input order. */
  readonly modules: readonly { readonly paddr: number; readonly size: number }[];
  /** First byte after the boot data (page-aligned). */
  readonly dataEnd: number;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function pageUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Check a user-supplied RAM size in MiB and return it in bytes. */
export function validateRamSize(mib: number): number {
  const max = maxGuestRamBytes / MIB;
  if (!Number.isInteger(mib)) throw new RangeError(`guest memory must be a whole number of MiB (got ${mib})`);
  if (mib < minGuestRamBytes / MIB) throw new RangeError(`guest memory must be at least ${minGuestRamBytes / MIB} MiB (got ${mib})`);
  if (mib > max) throw new RangeError(`guest memory must be at most ${max} MiB (got ${mib})`);
  return mib * MIB;
}

/**
 * The guest's memory map, sorted and non-overlapping: RAM [0, ramBytes), then the special pages
 * as RESERVED so the guest's allocator leaves them alone. XENMEM_memory_map answers the same.
 */
export function buildMemmap(ramBytes: number, special: SpecialPages): MemmapEntry[] {
  if (ramBytes <= 0 || ramBytes % PAGE_SIZE !== 0 || ramBytes > maxGuestRamBytes) {
    throw new RangeError(`guest RAM size ${hex(ramBytes)} is not a page multiple up to ${hex(maxGuestRamBytes)}`);
  }
  const groups = [...new Set([special.consolePfn, special.xenstorePfn]
    .map((pfn) => Math.floor(pfn / SPECIAL_GROUP_PAGES) * SPECIAL_GROUP_PAGES))].sort((a, b) => a - b);
  const reserved: MemmapEntry[] = [];
  for (const g of groups) {
    const addr = g * PAGE_SIZE;
    const size = SPECIAL_GROUP_PAGES * PAGE_SIZE;
    if (addr < ramBytes) throw new RangeError(`special page group at ${hex(addr)} lies inside guest RAM`);
    const last = reserved[reserved.length - 1];
    if (last !== undefined && last.addr + last.size === addr) {
      reserved[reserved.length - 1] = { ...last, size: last.size + size };
    } else {
      reserved.push({ addr, size, type: E820.values.RESERVED });
    }
  }
  return [{ addr: 0, size: ramBytes, type: E820.values.RAM }, ...reserved];
}

/** UTF-8 bytes of a command line plus its NUL; rejects embedded NULs and over-long lines. */
function encodeCmdline(s: string, what: string): Uint8Array {
  const text = new TextEncoder().encode(s);
  if (text.includes(0)) throw new ImageError('BAD_CMDLINE', `${what} contains a NUL byte`);
  if (text.length + 1 > MAX_CMDLINE_BYTES) {
    throw new ImageError('BAD_CMDLINE', `${what} is ${text.length} bytes long (limit ${MAX_CMDLINE_BYTES - 1})`);
  }
  const out = new Uint8Array(text.length + 1);
  out.set(text);
  return out;
}

/**
 * Write hvm_start_info (version 1), its memory map, module list, command lines and modules into
 * `ram` after the image. Layout, from max(pageUp(imageEnd), 1 MiB):
 *   start_info · memmap · modlist · cmdline · module cmdlines | page-aligned modules…
 * Throws ImageError('NO_MEMORY') naming the first piece that does not fit.
 */
export function writeBootInfo(ram: Uint8Array, input: BootLayoutInput): BootInfo {
  const { ramBytes } = input;
  if (ram.length < ramBytes) throw new RangeError(`RAM buffer (${ram.length} bytes) is smaller than ramBytes`);
  const memmap = buildMemmap(ramBytes, input.specialPages);
  const fits = (end: number, what: string): void => {
    if (end > ramBytes) {
      throw new ImageError('NO_MEMORY',
        `not enough guest memory for ${what} (needs RAM up to ${hex(end)}, guest has ${ramBytes / MIB} MiB)`);
    }
  };

  const cmdline = encodeCmdline(input.cmdline, 'kernel command line');
  const modCmdlines = input.modules.map((m) =>
    m.cmdline === undefined ? null : encodeCmdline(m.cmdline, `${m.name}: module command line`));

  // Plan first, then write, so a failure leaves RAM untouched.
  const startInfoGpa = Math.max(pageUp(input.imageEnd), BOOT_DATA_MIN);
  const memmapGpa = align8(startInfoGpa + HvmStartInfo.size);
  const modlistGpa = align8(memmapGpa + memmap.length * HvmMemmapEntry.size);
  const cmdlineGpa = modlistGpa + input.modules.length * HvmModlistEntry.size;
  let at = cmdlineGpa + cmdline.length;
  const modCmdlineGpa = modCmdlines.map((c) => {
    if (c === null) return 0;
    const gpa = at;
    at += c.length;
    return gpa;
  });
  const infoEnd = at;
  fits(infoEnd, 'the start info and command lines');
  at = pageUp(at);
  const modules = input.modules.map((m) => {
    const paddr = at;
    at = pageUp(at + m.data.length);
    fits(paddr + m.data.length, `module ${m.name}`);
    return { paddr, size: m.data.length };
  });

  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  ram.fill(0, startInfoGpa, infoEnd);
  writeField(view, startInfoGpa, HvmStartInfo, 'magic', HVM_START.values.MAGIC_VALUE);
  writeField(view, startInfoGpa, HvmStartInfo, 'version', 1);
  writeField(view, startInfoGpa, HvmStartInfo, 'nr_modules', input.modules.length);
  writeField(view, startInfoGpa, HvmStartInfo, 'modlist_paddr', input.modules.length > 0 ? modlistGpa : 0);
  writeField(view, startInfoGpa, HvmStartInfo, 'cmdline_paddr', cmdlineGpa);
  writeField(view, startInfoGpa, HvmStartInfo, 'memmap_paddr', memmapGpa);
  writeField(view, startInfoGpa, HvmStartInfo, 'memmap_entries', memmap.length);
  memmap.forEach((e, i) => {
    const base = memmapGpa + i * HvmMemmapEntry.size;
    writeField(view, base, HvmMemmapEntry, 'addr', e.addr);
    writeField(view, base, HvmMemmapEntry, 'size', e.size);
    writeField(view, base, HvmMemmapEntry, 'type', e.type);
  });
  ram.set(cmdline, cmdlineGpa);
  input.modules.forEach((m, i) => {
    const base = modlistGpa + i * HvmModlistEntry.size;
    writeField(view, base, HvmModlistEntry, 'paddr', modules[i].paddr);
    writeField(view, base, HvmModlistEntry, 'size', modules[i].size);
    writeField(view, base, HvmModlistEntry, 'cmdline_paddr', modCmdlineGpa[i]);
    const c = modCmdlines[i];
    if (c !== null) ram.set(c, modCmdlineGpa[i]);
    ram.set(m.data, modules[i].paddr);
  });

  return { startInfoGpa, memmap, cmdlineGpa, modules, dataEnd: at };
}
