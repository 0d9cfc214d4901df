// page-walk.test.ts: guest-virtual translation over hand-built page tables in every paging mode.
import t from 'tap';
import { RegionTable } from '../hypervisor/memory/regions.ts';
import { PhysMemory } from '../hypervisor/memory/phys-memory.ts';
import { translate, type PagingState } from '../hypervisor/memory/page-walk.ts';
import { GuestVirtual, GuestFault } from '../hypervisor/memory/guest-access.ts';

const RAM = 4 << 20;
function memory(): PhysMemory {
  const regions = new RegionTable();
  regions.add({ gpa: 0, size: RAM, fileOffset: 0, slot: 0, kind: 'ram' });
  return new PhysMemory(new Uint8Array(RAM), regions);
}
const set64 = (m: PhysMemory, gpa: number, v: bigint) => m.view.setBigUint64(gpa, v, true);
const set32 = (m: PhysMemory, gpa: number, v: number) => m.view.setUint32(gpa, v >>> 0, true);

const P = 1n, RW = 2n, PS = 0x80n;
const LONG: Omit<PagingState, 'cr3'> = { cr0: 0x80000011n, cr4: 0x20n, efer: 0x500n };

t.test('paging off is identity (32-bit truncation)', async (t) => {
  const m = memory();
  const ps = { cr0: 1n, cr3: 0n, cr4: 0n, efer: 0n };
  t.equal(translate(m, ps, 0x1234n, false), 0x1234);
  t.equal(translate(m, ps, 0x1_0000_1234n, false), 0x1234);
});

t.test('4-level: 4 KiB, 2 MiB and 1 GiB pages, not-present, read-only, non-canonical', async (t) => {
  const m = memory();
  const pml4 = 0x10000, pdpt = 0x11000, pd = 0x12000, pt = 0x13000;
  set64(m, pml4 + 0 * 8, BigInt(pdpt) | P | RW);
  set64(m, pdpt + 0 * 8, BigInt(pd) | P | RW);
  set64(m, pd + 1 * 8, 0x200000n | P | RW | PS); // 2 MiB page at va 2 MiB
  set64(m, pd + 0 * 8, BigInt(pt) | P | RW);
  set64(m, pt + 5 * 8, 0x300000n | P); // read-only 4 KiB page at va 0x5000
  set64(m, pdpt + 1 * 8, 0n | P | RW | PS); // 1 GiB page at va 1 GiB → pa 0
  const ps = { ...LONG, cr3: BigInt(pml4) };
  t.equal(translate(m, ps, 0x5123n, false), 0x300123);
  t.equal(translate(m, ps, 0x5123n, true), null, 'write to a read-only page faults');
  t.equal(translate(m, ps, 0x2abcden, false), 0x2abcde);
  t.equal(translate(m, ps, 0x4000_1234n, false), 0x1234, '1 GiB page');
  t.equal(translate(m, ps, 0x6000n, false), null, 'not present');
  t.equal(translate(m, ps, 0x0000_8000_0000_0000n, false), null, 'non-canonical');
  t.equal(translate(m, ps, 0xffff_8000_0000_0000n, false), null, 'canonical but unmapped');
  // Page tables pointing outside guest memory fault rather than read host memory.
  set64(m, pml4 + 8, 0x7_0000_0000n | P | RW);
  t.equal(translate(m, ps, 0x80_0000_0000n, false), null);
});


t.test('PAE and legacy 2-level paging', async (t) => {
  const m = memory();
  // PAE: PDPT at 0x20000, PD at 0x21000 with a 2 MiB page.
  set64(m, 0x20000, 0x21000n | P);
  set64(m, 0x21000 + 8, 0x200000n | P | RW | PS);
  const pae = { cr0: 0x80000011n, cr3: 0x20000n, cr4: 0x20n, efer: 0n };
  t.equal(translate(m, pae, 0x201000n, false), 0x201000);
  t.equal(translate(m, pae, 0x40000000n, false), null);
  // 2-level with a 4 MiB PSE page and a 4 KiB page.
  set32(m, 0x30000 + 0 * 4, 0x31000 | 3);
  set32(m, 0x31000 + 7 * 4, 0x123000 | 1);
  set32(m, 0x30000 + 1 * 4, 0x000000 | 3 | 0x80);
  const legacy = { cr0: 0x80000011n, cr3: 0x30000n, cr4: 0x10n, efer: 0n };
  t.equal(translate(m, legacy, 0x7456n, false), 0x123456);
  t.equal(translate(m, legacy, 0x7456n, true), null, 'read-only');
  t.equal(translate(m, legacy, 0x400010n, false), 0x10, '4 MiB page');
});

t.test('GuestVirtual copies across pages and faults without partial writes', async (t) => {
  const m = memory();
  const pml4 = 0x10000, pdpt = 0x11000, pd = 0x12000, pt = 0x13000;
  set64(m, pml4, BigInt(pdpt) | P | RW);
  set64(m, pdpt, BigInt(pd) | P | RW);
  set64(m, pd, BigInt(pt) | P | RW);
  set64(m, pt + 1 * 8, 0x100000n | P | RW); // va 0x1000 → pa 0x100000
  set64(m, pt + 2 * 8, 0x200000n | P | RW); // va 0x2000 → pa 0x200000 (not contiguous)
  const g = new GuestVirtual(m, { ...LONG, cr3: BigInt(pml4) });
  g.write(0x1ffen, new Uint8Array([1, 2, 3, 4]));
  t.same([...m.bytes.subarray(0x100ffe, 0x101000)], [1, 2]);
  t.same([...m.bytes.subarray(0x200000, 0x200002)], [3, 4]);
  t.same([...g.read(0x1ffen, 4)], [1, 2, 3, 4]);
  let fault: unknown = null;
  try {
    g.write(0x2ffen, new Uint8Array([9, 9, 9, 9]));
  } catch (err) {
    fault = err;
  }
  t.ok(fault instanceof GuestFault, 'a write reaching an unmapped page faults');
  t.same([...m.bytes.subarray(0x200ffe, 0x201000)], [0, 0], 'nothing written when a later page faults');
});
