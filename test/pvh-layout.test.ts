// pvh-layout.test.ts: boot data placement, hvm_start_info contents and the guest memory map.
import { maxGuestRamBytes } from '../abi/guest-limits.ts';
import t from 'tap';
import { readField, readNum } from '../abi/layout.ts';
import { E820, HVM_START, HvmMemmapEntry, HvmModlistEntry, HvmStartInfo } from '../abi/start-info.ts';
import { SPECIAL_PFN } from '../abi/hvm.ts';
import {
  MAX_CMDLINE_BYTES, PAGE_SIZE, buildMemmap, validateRamSize, writeBootInfo,
  type BootLayoutInput, type MemmapEntry,
} from '../hypervisor/boot/pvh-layout.ts';
import { ImageError } from '../hypervisor/boot/image-error.ts';

const MIB = 1024 * 1024;
const special = { consolePfn: SPECIAL_PFN.values.CONSOLE, xenstorePfn: SPECIAL_PFN.values.XENSTORE };

function view(ram: Uint8Array): DataView {
  return new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
}

function cString(ram: Uint8Array, at: number): { text: string; nul: boolean } {
  const end = ram.indexOf(0, at);
  return { text: Buffer.from(ram.subarray(at, end < 0 ? ram.length : end)).toString('utf8'), nul: end >= 0 };
}

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

t.test('start info, memmap, cmdline and modules read back through abi accessors', async (t) => {
  const ramBytes = 32 * MIB;
  const ram = new Uint8Array(ramBytes).fill(0xaa);
  const imageEnd = 0x123456;
  const modA = pattern(5000, 7);
  const modB = pattern(3, 99);
  const input: BootLayoutInput = {
    ramBytes, imageEnd, cmdline: 'console=hvc0 root=/dev/xvda1 ü',
    modules: [{ name: 'initrd', data: modA, cmdline: 'initrd-args x=1' }, { name: 'blob', data: modB }],
    specialPages: special,
  };
  const info = writeBootInfo(ram, input);
  const v = view(ram);
  const si = info.startInfoGpa;
  t.equal(si, 0x124000, 'page after the image');
  t.ok(ram.subarray(0, si).every((b) => b === 0xaa), 'nothing written below the start info');

  t.equal(readField(v, si, HvmStartInfo, 'magic'), HVM_START.values.MAGIC_VALUE);
  t.same([...ram.subarray(si, si + 4)], [0x78, 0xc5, 0x6e, 0x33], 'magic bytes "xEn3"');
  t.equal(readField(v, si, HvmStartInfo, 'version'), 1);
  t.equal(readField(v, si, HvmStartInfo, 'flags'), 0);
  t.equal(readField(v, si, HvmStartInfo, 'rsdp_paddr'), 0n);
  t.equal(readField(v, si, HvmStartInfo, 'reserved'), 0);
  t.equal(readField(v, si, HvmStartInfo, 'nr_modules'), 2);

  // Memory map as the guest sees it.
  const n = readNum(v, si, HvmStartInfo, 'memmap_entries');
  const mm = readNum(v, si, HvmStartInfo, 'memmap_paddr');
  t.equal(mm % 8, 0, 'memmap 8-byte aligned');
  const entries: MemmapEntry[] = [];
  for (let i = 0; i < n; i++) {
    const at = mm + i * HvmMemmapEntry.size;
    entries.push({
      addr: readNum(v, at, HvmMemmapEntry, 'addr'),
      size: readNum(v, at, HvmMemmapEntry, 'size'),
      type: readNum(v, at, HvmMemmapEntry, 'type'),
    });
    t.equal(readField(v, at, HvmMemmapEntry, 'reserved'), 0);
  }
  t.same(entries, info.memmap, 'returned memmap equals the one in guest RAM');
  const ram1 = entries.filter((e) => e.type === E820.values.RAM);
  t.equal(ram1.reduce((s, e) => s + e.size, 0), ramBytes, 'RAM entries cover exactly ramBytes');
  t.same(ram1, [{ addr: 0, size: ramBytes, type: E820.values.RAM }]);
  t.same(entries.filter((e) => e.type === E820.values.RESERVED),
    [{ addr: 0xfeff8000, size: 0x8000, type: E820.values.RESERVED }], 'special pages reserved');
  for (let i = 1; i < entries.length; i++) {
    t.ok(entries[i].addr >= entries[i - 1].addr + entries[i - 1].size, 'sorted, non-overlapping');
  }

  // Command line.
  const cl = readNum(v, si, HvmStartInfo, 'cmdline_paddr');
  t.equal(cl, info.cmdlineGpa);
  t.same(cString(ram, cl), { text: input.cmdline, nul: true }, 'cmdline NUL-terminated');

  // Modules.
  const ml = readNum(v, si, HvmStartInfo, 'modlist_paddr');
  t.ok(ml >= si + HvmStartInfo.size);
  const mods = [0, 1].map((i) => ({
    paddr: readNum(v, ml + i * HvmModlistEntry.size, HvmModlistEntry, 'paddr'),
    size: readNum(v, ml + i * HvmModlistEntry.size, HvmModlistEntry, 'size'),
    cmdline: readNum(v, ml + i * HvmModlistEntry.size, HvmModlistEntry, 'cmdline_paddr'),
    reserved: readField(v, ml + i * HvmModlistEntry.size, HvmModlistEntry, 'reserved'),
  }));
  t.same(info.modules, mods.map((m) => ({ paddr: m.paddr, size: m.size })));
  mods.forEach((m, i) => {
    t.equal(m.paddr % PAGE_SIZE, 0, `module ${i} page-aligned`);
    t.ok(m.paddr > cl, `module ${i} after the info block`);
    t.equal(m.reserved, 0n);
  });
  t.ok(mods[1].paddr >= mods[0].paddr + mods[0].size, 'modules do not overlap');
  t.same(ram.subarray(mods[0].paddr, mods[0].paddr + mods[0].size), modA, 'module 0 intact');
  t.same(ram.subarray(mods[1].paddr, mods[1].paddr + mods[1].size), modB, 'module 1 intact');
  t.same(cString(ram, mods[0].cmdline), { text: 'initrd-args x=1', nul: true });
  t.equal(mods[1].cmdline, 0, 'absent module cmdline is address 0');
  t.equal(info.dataEnd, mods[1].paddr + PAGE_SIZE);
  t.equal(ram[info.dataEnd], 0xaa, 'nothing written past dataEnd');
});

t.test('boot data never goes below 1 MiB; no modules means modlist_paddr 0', async (t) => {
  const ram = new Uint8Array(2 * MIB);
  const info = writeBootInfo(ram, { ramBytes: 2 * MIB, imageEnd: 0x8000, cmdline: '', modules: [], specialPages: special });
  t.equal(info.startInfoGpa, 0x100000);
  const v = view(ram);
  t.equal(readField(v, info.startInfoGpa, HvmStartInfo, 'nr_modules'), 0);
  t.equal(readField(v, info.startInfoGpa, HvmStartInfo, 'modlist_paddr'), 0n);
  const cl = readNum(v, info.startInfoGpa, HvmStartInfo, 'cmdline_paddr');
  t.not(cl, 0);
  t.equal(ram[cl], 0, 'empty cmdline is a lone NUL');
});

t.test('too little RAM fails with NO_MEMORY and leaves RAM untouched', async (t) => {
  const ram = new Uint8Array(2 * MIB).fill(0xaa);
  const base = { ramBytes: 2 * MIB, cmdline: 'x', specialPages: special };
  const e1 = thrown(() => writeBootInfo(ram, { ...base, imageEnd: 2 * MIB, modules: [] }));
  t.ok(e1 instanceof ImageError, 'ImageError');
  t.match(e1, { code: 'NO_MEMORY', message: /^not enough guest memory for the start info/ });
  const e2 = thrown(() => writeBootInfo(ram, {
    ...base, imageEnd: 0x1f0000, modules: [{ name: 'initrd.img', data: new Uint8Array(64 * 1024) }],
  }));
  t.ok(e2 instanceof ImageError, 'ImageError');
  t.match(e2, { code: 'NO_MEMORY', message: /^not enough guest memory for module initrd\.img \(needs RAM up to 0x20[0-9a-f]{4}, guest has 2 MiB\)/ });
  t.ok(ram.every((b) => b === 0xaa), 'RAM untouched');
  // Exactly fitting is fine: start info page + a 60 KiB module ending at 2 MiB.
  t.doesNotThrow(() => writeBootInfo(ram, {
    ...base, imageEnd: 0x1f0000, modules: [{ name: 'm', data: new Uint8Array(0xf000) }],
  }));
});

t.test('command lines: NUL-terminated, capped, no embedded NUL', async (t) => {
  const ram = new Uint8Array(4 * MIB);
  const base = { ramBytes: 4 * MIB, imageEnd: 0x100000, modules: [], specialPages: special };
  const longest = 'a'.repeat(MAX_CMDLINE_BYTES - 1);
  const info = writeBootInfo(ram, { ...base, cmdline: longest });
  t.equal(cString(ram, info.cmdlineGpa).text.length, MAX_CMDLINE_BYTES - 1);
  t.equal(ram[info.cmdlineGpa + MAX_CMDLINE_BYTES - 1], 0);
  t.match(thrown(() => writeBootInfo(ram, { ...base, cmdline: longest + 'a' })),
    { code: 'BAD_CMDLINE', message: /kernel command line is 65536 bytes long/ });
  t.match(thrown(() => writeBootInfo(ram, { ...base, cmdline: 'a\0b' })), { code: 'BAD_CMDLINE', message: /NUL/ });
  t.match(thrown(() => writeBootInfo(ram, {
    ...base, cmdline: '', modules: [{ name: 'm', data: new Uint8Array(1), cmdline: 'x\0' }],
  })), { code: 'BAD_CMDLINE', message: /^m: module command line contains a NUL byte/ });
});

t.test('buildMemmap: sorted, non-overlapping, special pages outside RAM', async (t) => {
  t.same(buildMemmap(2 * MIB, special), [
    { addr: 0, size: 2 * MIB, type: E820.values.RAM },
    { addr: 0xfeff8000, size: 0x8000, type: E820.values.RESERVED },
  ]);
  t.same(buildMemmap(maxGuestRamBytes, special)[0], { addr: 0, size: maxGuestRamBytes, type: E820.values.RAM });
  // PFNs in separate groups: two entries, in address order; adjacent groups merge.
  t.same(buildMemmap(2 * MIB, { consolePfn: 0xfefff, xenstorePfn: 0xe0000 }).slice(1), [
    { addr: 0xe0000000, size: 0x8000, type: E820.values.RESERVED },
    { addr: 0xfeff8000, size: 0x8000, type: E820.values.RESERVED },
  ]);
  t.same(buildMemmap(2 * MIB, { consolePfn: 0xfeff0, xenstorePfn: 0xfeff8 }).slice(1), [
    { addr: 0xfeff0000, size: 0x10000, type: E820.values.RESERVED },
  ]);
  t.throws(() => buildMemmap(4 * MIB, { consolePfn: 0x200, xenstorePfn: 0xfeffc }), /inside guest RAM/);
  t.throws(() => buildMemmap(maxGuestRamBytes + PAGE_SIZE, special));
});

t.test('validateRamSize', async (t) => {
  t.equal(validateRamSize(2), 2 * MIB);
  t.equal(validateRamSize(3072), maxGuestRamBytes);
  t.equal(maxGuestRamBytes, 0xc0000000);
  t.throws(() => validateRamSize(1), /at least 2 MiB/);
  t.throws(() => validateRamSize(3073), /at most 3072 MiB/);
  t.throws(() => validateRamSize(2.5), /whole number/);
  t.throws(() => validateRamSize(Number.NaN), /whole number/);
});
