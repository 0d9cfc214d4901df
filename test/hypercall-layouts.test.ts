// hypercall-layouts.test.ts: hypercall arguments in the 64-bit and the 32-bit (compat) layouts, run
// through the real handlers on a fake domain (no KVM): memory_op, multicall, the singleshot timer
// and xen_version. Each 32-bit struct ends where RAM does, so reading it as the longer 64-bit
// layout would fault instead of passing by luck.
import t from 'tap';
import { BalloonMap } from '../hypervisor/memory/balloon.ts';
import { RegionTable } from '../hypervisor/memory/regions.ts';
import { PhysMemory } from '../hypervisor/memory/phys-memory.ts';
import { GuestVirtual } from '../hypervisor/memory/guest-access.ts';
import { DomainShared } from '../hypervisor/state/shared-state.ts';
import type { Domains } from '../hypervisor/state/domain-handle.ts';
import type { DomainEnv, HypercallContext } from '../hypervisor/hypercall/context.ts';
import { HypercallTable } from '../hypervisor/hypercall/table.ts';
import { memoryOp } from '../hypervisor/hypercall/memory-op.ts';
import { makeMulticall } from '../hypervisor/hypercall/multicall.ts';
import { vcpuOp } from '../hypervisor/hypercall/vcpu-op.ts';
import { xenVersion } from '../hypervisor/hypercall/xen-version.ts';
import { readField, readNum, writeField, type StructDef } from '../abi/layout.ts';
import {
  XENMEM, XENMAPSPACE, XenAddToPhysmap, XenAddToPhysmap32, XenMemoryMap, XenMemoryMap32, XenMemoryDomain, E820Entry,
  XenMemoryReservation, XenMemoryReservation32,
} from '../abi/memory.ts';
import { MulticallEntry, MulticallEntry32, DOMID } from '../abi/multicall.ts';
import { VCPUOP, VcpuSetSingleshotTimer, VcpuSetSingleshotTimer32 } from '../abi/vcpu.ts';
import { XENVER, XenPlatformParameters, XenPlatformParameters32 } from '../abi/version.ts';
import { SharedInfo32, SharedInfo64 } from '../abi/shared-info.ts';
import { E820 } from '../abi/start-info.ts';
import { E } from '../abi/errno.ts';

const PAGE = 4096;
const RAM = 64 * PAGE;
const DOMID_SELF = DOMID.values.SELF;

interface Fake {
  readonly ctx: (mode: 64 | 32) => HypercallContext;
  readonly mem: PhysMemory;
  readonly shared: DomainShared;
}

/** A one-vCPU domain with RAM only, paging off (guest-virtual = guest-physical). */
function fakeDomain(): Fake {
  const regions = new RegionTable();
  regions.add({ gpa: 0, size: RAM, fileOffset: 0, slot: 0, kind: 'ram' });
  const mem = new PhysMemory(new Uint8Array(RAM), regions);
  const shared = new DomainShared();
  const domains = { hv: { timersChanged: () => undefined } } as unknown as Domains;
  const dom = {
    domid: 3, name: 'fake', uuid: new Uint8Array(16), privileged: false, ramBytes: RAM, nrVcpus: 1, shared, mem,
    memmap: [{ addr: 0, size: RAM, type: E820.values.RAM }, { addr: 0xfeff8000, size: 8 * PAGE, type: E820.values.RESERVED }],
    domains,
    maxGpfn: () => RAM / PAGE - 1,
    console: () => undefined,
    shutdown: () => undefined,
    remoteShutdown: () => undefined,
    backSpecialPage: (gpfn: number) => gpfn < RAM / PAGE,
    balloon: new BalloonMap(RAM / PAGE),
    maxPages: RAM / PAGE,
    discardFrames: (pfn: number, count: number) => {
      new Uint8Array(mem.bytes.buffer, mem.bytes.byteOffset + pfn * PAGE, count * PAGE).fill(0);
      return true;
    },
    setFrameAccess: () => true,
    kickVcpu: () => undefined,
    now: () => 5_000_000_000n,
  } satisfies DomainEnv;
  const guest = new GuestVirtual(mem, { cr0: 1n, cr3: 0n, cr4: 0n, efer: 0n });
  const ctx = (mode: 64 | 32): HypercallContext => ({
    dom, vcpuId: 0, guest, mode, depth: 0, stopRequested: () => false,
    arch: { routePicToLapic: () => undefined, interruptsEnabled: () => false },
  });
  return { ctx, mem, shared };
}

/** Write a struct's fields at `gpa` through its layout. */
function put<N extends string>(m: PhysMemory, gpa: number, s: StructDef<N>, values: Partial<Record<N, number | bigint>>): void {
  for (const [k, v] of Object.entries(values) as [N, number | bigint][]) writeField(m.view, gpa, s, k, v);
}

const MODES = [
  { mode: 64, res: XenMemoryReservation, xatp: XenAddToPhysmap, map: XenMemoryMap, mc: MulticallEntry, sst: VcpuSetSingleshotTimer, pp: XenPlatformParameters },
  { mode: 32, res: XenMemoryReservation32, xatp: XenAddToPhysmap32, map: XenMemoryMap32, mc: MulticallEntry32, sst: VcpuSetSingleshotTimer32, pp: XenPlatformParameters32 },
] as const;

for (const L of MODES) {
  t.test(`${L.mode}-bit caller`, async (t) => {
    t.test('XENMEM_add_to_physmap places shared_info; a bad idx is -EINVAL', async (t) => {
      const f = fakeDomain();
      const ctx = f.ctx(L.mode);
      // The latched layout follows the caller here, as after its HVM_PARAM_CALLBACK_IRQ.
      f.shared.wordSize = L.mode;
      const at = RAM - L.xatp.size;
      const gpfn = 9;
      put(f.mem, at, L.xatp, { domid: DOMID_SELF, space: XENMAPSPACE.values.shared_info, idx: 0, gpfn });
      t.equal(memoryOp(ctx, [BigInt(XENMEM.values.add_to_physmap), BigInt(at)]), 0n, 'placed');
      t.equal(f.shared.sharedInfoGpa, gpfn * PAGE);
      const si = f.shared.sharedInfoOffset;
      const layout: StructDef<'wc_version' | 'wc_sec'> = L.mode === 32 ? SharedInfo32 : SharedInfo64;
      const version = readNum(f.mem.view, si, layout, 'wc_version');
      t.ok(version > 0 && version % 2 === 0, `wallclock published (wc_version ${version})`);
      t.ok(readNum(f.mem.view, si, layout, 'wc_sec') > 1_600_000_000, 'wc_sec is a plausible wall-clock time');

      put(f.mem, at, L.xatp, { idx: 1 });
      t.equal(memoryOp(ctx, [BigInt(XENMEM.values.add_to_physmap), BigInt(at)]), -BigInt(E.EINVAL), 'shared_info has only idx 0');
      put(f.mem, at, L.xatp, { idx: 0, domid: 7 });
      t.equal(memoryOp(ctx, [BigInt(XENMEM.values.add_to_physmap), BigInt(at)]), -BigInt(E.EPERM), 'another domain');
    });

    t.test('XENMEM_memory_map fills the buffer and writes back nr_entries only', async (t) => {
      const f = fakeDomain();
      const at = RAM - L.map.size;
      const buf = 2 * PAGE;
      put(f.mem, at, L.map, { nr_entries: 8, buffer: buf });
      // Bytes between the fields must stay as the guest left them.
      const gap = L.map.byName.buffer.offset - 4;
      if (gap > 0) f.mem.bytes.fill(0xa5, at + 4, at + 4 + gap);
      t.equal(memoryOp(f.ctx(L.mode), [BigInt(XENMEM.values.memory_map), BigInt(at)]), 0n);
      t.equal(readNum(f.mem.view, at, L.map, 'nr_entries'), 2);
      t.equal(readField(f.mem.view, buf + E820Entry.size, E820Entry, 'addr'), 0xfeff8000n, 'second entry');
      t.ok(f.mem.bytes.subarray(at + 4, at + 4 + gap).every((b) => b === 0xa5), 'padding untouched');
    });

    t.test('current_reservation reads xen_memory_domain', async (t) => {
      const f = fakeDomain();
      const at = RAM - XenMemoryDomain.size;
      put(f.mem, at, XenMemoryDomain, { domid: DOMID_SELF });
      t.equal(memoryOp(f.ctx(L.mode), [BigInt(XENMEM.values.current_reservation), BigInt(at)]), BigInt(RAM / PAGE));
      put(f.mem, at, XenMemoryDomain, { domid: 7 });
      t.equal(memoryOp(f.ctx(L.mode), [BigInt(XENMEM.values.current_reservation), BigInt(at)]), -BigInt(E.EPERM));
    });

    t.test('ballooning: decrease, populate, increase and their limits', async (t) => {
      const f = fakeDomain();
      const ctx = f.ctx(L.mode);
      const width = L.mode === 64 ? 8 : 4;
      const resAt = RAM - 64;
      const listAt = RAM - 2 * PAGE;
      const domAt = RAM - 128;
      put(f.mem, domAt, XenMemoryDomain, { domid: DOMID_SELF });
      const current = (): bigint => memoryOp(ctx, [BigInt(XENMEM.values.current_reservation), BigInt(domAt)]);
      const op = (cmd: number, gfns: number[], order = 0, start = 0): bigint => {
        gfns.forEach((g, i) => { if (width === 8) f.mem.view.setBigUint64(listAt + i * 8, BigInt(g), true); else f.mem.view.setUint32(listAt + i * 4, g, true); });
        put(f.mem, resAt, L.res, { extent_start: listAt, nr_extents: gfns.length, extent_order: order, mem_flags: 0, domid: DOMID_SELF });
        return memoryOp(ctx, [BigInt(cmd) | (BigInt(start) << 6n), BigInt(resAt)]);
      };
      const D = XENMEM.values.decrease_reservation;
      const P = XENMEM.values.populate_physmap;
      const I = XENMEM.values.increase_reservation;
      f.mem.bytes.fill(0xab, 20 * PAGE, 24 * PAGE);
      t.equal(op(D, [20, 21]), 2n, 'two frames given back');
      t.equal(current(), BigInt(RAM / PAGE - 2));
      t.ok(f.mem.bytes.subarray(20 * PAGE, 22 * PAGE).every((b) => b === 0), 'a released frame reads zero');
      t.equal(f.mem.bytes[22 * PAGE], 0xab, 'its neighbour is untouched');
      t.equal(op(D, [22, 21, 23]), 1n, 'a frame released twice stops the walk there');
      t.equal(op(D, [RAM / PAGE]), 0n, 'frames beyond RAM cannot be released');
      t.equal(op(D, [24]), 1n);
      t.equal(op(D, [25, 26], 0, 1), 2n, 'a continuation starts at its extent (26, not 25) and returns the absolute count');
      t.equal(op(P, [25]), 1n, 'frame 25 was never released: populate replaces it with a zeroed page');
      t.equal(op(D, [32], 1), 1n, 'an order-1 extent releases two frames');
      t.equal(op(D, [35], 1), 0n, 'a misaligned extent is refused');
      t.equal(op(D, [0], 10), -BigInt(E.EPERM), 'extents above 2 MiB are refused');
      const after = current();
      t.equal(op(I, [0, 0]), 2n, 'increase_reservation counts pages within the maximum');
      t.equal(current(), after + 2n);
      t.equal(op(P, [20, 21]), 2n, 'released frames come back');
      t.ok(f.mem.bytes.subarray(20 * PAGE, 22 * PAGE).every((b) => b === 0), 'zeroed');
      t.equal(op(P, [RAM / PAGE]), 0n, 'populate outside RAM fails');
      put(f.mem, resAt, L.res, { extent_start: listAt, nr_extents: 1, extent_order: 0, mem_flags: 0, domid: 9 });
      t.equal(memoryOp(ctx, [BigInt(D), BigInt(resAt)]), -BigInt(E.EPERM), 'another domain');
      put(f.mem, resAt, L.res, { extent_start: 0xfff00000, nr_extents: 1, extent_order: 0, mem_flags: 0, domid: DOMID_SELF });
      t.equal(memoryOp(ctx, [BigInt(D), BigInt(resAt)]), 0n, 'an unreadable list ends the walk');
      t.equal(memoryOp(ctx, [BigInt(XENMEM.values.maximum_reservation), BigInt(domAt)]), BigInt(RAM / PAGE));
    });

    t.test('multicall entries: the stride, arguments and result width of the mode', async (t) => {
      const f = fakeDomain();
      const table = new HypercallTable();
      table.register(40, 'sum', (_c, a) => a.reduce((x, y) => x + y, 0n));
      table.register(41, 'fail', () => -BigInt(E.ENOENT));
      const multicall = makeMulticall(table);
      const list = RAM - 2 * L.mc.size;
      put(f.mem, list, L.mc, { op: 40 });
      for (let k = 0; k < 6; k++) writeField(f.mem.view, list, L.mc, 'args', k + 1, k);
      put(f.mem, list + L.mc.size, L.mc, { op: 41, result: 0x1234 });
      t.equal(multicall(f.ctx(L.mode), [BigInt(list), 2n]), 0n);
      t.equal(readField(f.mem.view, list, L.mc, 'result'), L.mode === 64 ? 21n : 21);
      const r1 = readField(f.mem.view, list + L.mc.size, L.mc, 'result');
      t.equal(BigInt(r1), BigInt.asUintN(L.mode, -BigInt(E.ENOENT)), '-errno in the width of a xen_ulong_t');
      t.equal(readNum(f.mem.view, list, L.mc, 'op'), 40, 'the rest of the entry is left alone');
    });

    t.test('VCPUOP_set_singleshot_timer reads the timeout of the mode', async (t) => {
      const f = fakeDomain();
      const at = RAM - L.sst.size;
      put(f.mem, at, L.sst, { timeout_abs_ns: 7_000_000_000n, flags: 0 });
      t.equal(vcpuOp(f.ctx(L.mode), [BigInt(VCPUOP.values.set_singleshot_timer), 0n, BigInt(at)]), 0n);
      t.equal(Atomics.load(f.shared.timerDeadline, 0), 7_000_000_000n);
    });

    t.test('XENVER_platform_parameters writes a xen_ulong_t of the mode', async (t) => {
      const f = fakeDomain();
      const at = 3 * PAGE;
      f.mem.bytes.fill(0x5a, at, at + 16);
      t.equal(xenVersion(f.ctx(L.mode), [BigInt(XENVER.values.platform_parameters), BigInt(at)]), 0n);
      t.ok(f.mem.bytes.subarray(at, at + L.pp.size).every((b) => b === 0), 'virt_start = 0');
      t.equal(f.mem.bytes[at + L.pp.size], 0x5a, 'nothing written past it');
    });
  });
}
