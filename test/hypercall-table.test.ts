// hypercall-table.test.ts: the dispatch table, the hypercall page and the Xen CPUID leaves.
import t from 'tap';
import { HypercallTable } from '../hypervisor/hypercall/table.ts';
import { buildHypercallTable } from '../hypervisor/hypercall/index.ts';
import { buildHypercallPage } from '../hypervisor/hypercall/page.ts';
import { buildCpuid } from '../hypervisor/vcpu/xen-cpuid.ts';
import { tscScale } from '../hypervisor/time/tsc-scale.ts';
import { GuestFault } from '../hypervisor/memory/guest-access.ts';
import type { HypercallContext } from '../hypervisor/hypercall/context.ts';
import { HC, HYPERCALL_PAGE } from '../abi/hypercalls.ts';
import { E } from '../abi/errno.ts';
import { DOMU_HYPERCALL_ANSWERS } from '../abi/hypercall-answers.ts';

const ctx = {} as HypercallContext;

t.test('registrations are unique and numbers checked', async (t) => {
  const table = new HypercallTable();
  table.register(17, 'a', () => 0n);
  t.throws(() => table.register(17, 'b', () => 0n), /registered twice/);
  t.throws(() => table.register(128, 'c', () => 0n), /bad number/);
  t.doesNotThrow(() => buildHypercallTable(), 'the default table has no duplicates');
});

t.test('dispatch: unknown → -ENOSYS, guest faults → -EFAULT, host bugs propagate', async (t) => {
  const table = new HypercallTable();
  table.register(1, 'fault', () => { throw new GuestFault(0xdeadn); });
  table.register(2, 'bug', () => { throw new TypeError('bug'); });
  table.register(3, 'ok', (_c, a) => a[0]! + 1n);
  t.equal(table.dispatch(ctx, 99n, []), -BigInt(E.ENOSYS));
  t.equal(table.dispatch(ctx, -1n, []), -BigInt(E.ENOSYS));
  t.equal(table.dispatch(ctx, 1n << 40n, []), -BigInt(E.ENOSYS));
  t.equal(table.dispatch(ctx, 1n, []), -BigInt(E.EFAULT));
  t.throws(() => table.dispatch(ctx, 2n, []), TypeError);
  t.equal(table.dispatch(ctx, 3n, [41n]), 42n);
  t.equal(table.counts[3], 1);
});

t.test("every hypercall number gets Xen's answer for a domU", async (t) => {
  const table = buildHypercallTable();
  const answers = DOMU_HYPERCALL_ANSWERS as Record<string, string>;
  t.same(Object.keys(answers).sort(), Object.keys(HC).sort(), 'the table names every hypercall number');
  for (const [name, nr] of Object.entries(HC)) {
    const answer = answers[name]!;
    if (answer === 'implemented') {
      t.equal(table.name(nr) !== undefined, true, `${name} (${nr}) has a handler`);
    } else {
      t.equal(table.name(nr), undefined, `${name} (${nr}) has no handler`);
      t.equal(table.dispatch(ctx, BigInt(nr), []), -BigInt(E[answer as keyof typeof E]), `${name} (${nr}) answers -${answer}`);
    }
  }
  for (let nr = 0; nr < HYPERCALL_PAGE.values.NR_STUBS; nr++) {
    if (Object.values(HC).includes(nr as never)) continue;
    t.equal(table.dispatch(ctx, BigInt(nr), []), -BigInt(E.ENOSYS), `unassigned number ${nr} answers -ENOSYS`);
  }
  t.equal(table.dispatch(ctx, BigInt(HC.sysctl), []), -BigInt(E.EPERM), 'sysctl is refused, not missing');
});

t.test('hypercall page layout', async (t) => {
  const page = buildHypercallPage();
  const { STUB_SIZE, TRAP_PORT } = HYPERCALL_PAGE.values;
  t.not(page[0], 0xc3, 'byte 0 is not ret');
  const stub = (nr: number) => [...page.subarray(nr * STUB_SIZE, nr * STUB_SIZE + 8)];
  t.same(stub(HC.xen_version), [0xb8, 17, 0, 0, 0, 0xe6, TRAP_PORT, 0xc3]);
  t.same(stub(127), [0xb8, 127, 0, 0, 0, 0xe6, TRAP_PORT, 0xc3]);
  t.same(stub(HC.iret).slice(0, 2), [0x0f, 0x0b], 'iret is ud2');
  t.ok(page.subarray(8, 32).every((b) => b === 0xcc), 'int3 fill between stubs');
});

t.test('Xen CPUID leaves replace KVM signature leaves', async (t) => {
  const host = [
    { function: 0, index: 0, flags: 0, eax: 0xd, ebx: 0, ecx: 0, edx: 0 },
    { function: 1, index: 0, flags: 0, eax: 0, ebx: 0x00010800, ecx: 0, edx: 0 },
    { function: 0x40000000, index: 0, flags: 0, eax: 0x40000001, ebx: 0x4b4d564b, ecx: 0x564b4d56, edx: 0x4d },
    { function: 0x40000001, index: 0, flags: 0, eax: 0xffffff, ebx: 0, ecx: 0, edx: 0 },
  ];
  const { mul, shift } = tscScale(2_600_000);
  const c = buildCpuid(host, { vcpuId: 3, domid: 7, tscKhz: 2_600_000, tscMul: mul, tscShift: shift });
  const leaf = (f: number, i = 0) => c.filter((e) => e.function === f && e.index === i);
  t.equal(leaf(0x40000000).length, 1, 'one base leaf');
  t.same(leaf(0x40000000)[0], { function: 0x40000000, index: 0, flags: 0, eax: 0x40000005, ebx: 0x566e6558, ecx: 0x65584d4d, edx: 0x4d4d566e });
  t.equal(leaf(0x40000001)[0]!.eax, (4 << 16) | 17);
  t.equal(leaf(0x40000002)[0]!.ebx, 0x40000000, 'hypercall MSR');
  t.equal(leaf(0x40000004)[0]!.ebx, 3, 'vcpu id');
  t.equal(leaf(0x40000004)[0]!.ecx, 7, 'domid');
  t.equal(leaf(1)[0]!.ecx >>> 31, 1, 'hypervisor bit');
  t.equal(leaf(1)[0]!.ebx >>> 24, 3, 'initial APIC id');
});

t.test('pvclock scale converts TSC ticks to ns', async (t) => {
  for (const khz of [1_000_000, 2_600_000, 3_999_999, 100_000]) {
    const { mul, shift } = tscScale(khz);
    t.ok(mul > 0 && mul < 2 ** 32);
    const ticks = BigInt(khz) * 1000n; // one second of ticks
    const shifted = shift >= 0 ? ticks << BigInt(shift) : ticks >> BigInt(-shift);
    const ns = (shifted * BigInt(mul)) >> 32n;
    t.ok(ns > 999_999_000n && ns < 1_000_001_000n, `${khz} kHz: one second is ${ns} ns`);
  }
});
