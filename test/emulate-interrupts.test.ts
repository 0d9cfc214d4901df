// emulate-interrupts.test.ts: INT n / INT3 / INTO and IRET on hand-built GDT, IDT and TSS — frames,
// stacks, privilege changes, flags, and the faults (with error codes) the SDM gives for bad gates,
// segments and stacks — in IA-32e mode, 32-bit protected mode and real mode.
import t from 'tap';
import { emulateInstruction, type EmuOutcome } from '../hypervisor/vcpu/emulate/emulator.ts';
import { FakeCpu, SCRATCH } from './helpers/emu-cpu.ts';

const GDT = SCRATCH, IDT = SCRATCH + 0x1000, TSS = SCRATCH + 0x2000, CODE = SCRATCH + 0x3000;
const STACK = SCRATCH + 0x8000, STACK0 = SCRATCH + 0xa000, IST1 = SCRATCH + 0xc000, HANDLER = SCRATCH + 0x4000;
const IF = 0x200n, TF = 0x100n;

const CODE64 = 0x00209a0000000000n, DATA = 0x00cf92000000ffffn, UCODE64 = 0x0020fa0000000000n, UDATA = 0x00cff2000000ffffn;
const CODE32 = 0x00cf9a000000ffffn, UCODE32 = 0x00cffa000000ffffn;

function gdt(cpu: FakeCpu, entries: bigint[]): void {
  entries.forEach((e, i) => cpu.mem.view.setBigUint64(GDT + i * 8, e, true));
  cpu.tables.gdt = { base: BigInt(GDT), limit: entries.length * 8 - 1 };
}

/** A 64-bit gate: type 0xE interrupt / 0xF trap. */
function gate64(cpu: FakeCpu, vector: number, o: { sel?: number; dpl?: number; type?: number; present?: boolean; ist?: number } = {}): void {
  const off = BigInt(HANDLER), at = IDT + vector * 16;
  const attr = BigInt(((o.present ?? true) ? 0x80 : 0) | ((o.dpl ?? 0) << 5) | (o.type ?? 0xe));
  cpu.mem.view.setBigUint64(at, (off & 0xffffn) | (BigInt(o.sel ?? 0x08) << 16n) | (BigInt(o.ist ?? 0) << 32n) | (attr << 40n) | ((off >> 16n & 0xffffn) << 48n), true);
  cpu.mem.view.setBigUint64(at + 8, off >> 32n, true);
}

function gate32(cpu: FakeCpu, vector: number, o: { sel?: number; dpl?: number; type?: number } = {}): void {
  const off = BigInt(HANDLER);
  const attr = BigInt(0x80 | ((o.dpl ?? 0) << 5) | (o.type ?? 0xe));
  cpu.mem.view.setBigUint64(IDT + vector * 8, (off & 0xffffn) | (BigInt(o.sel ?? 0x08) << 16n) | (attr << 40n) | ((off >> 16n & 0xffffn) << 48n), true);
}

function run(cpu: FakeCpu, bytes: number[]): EmuOutcome {
  return emulateInstruction(cpu, cpu.mem, new Uint8Array(bytes));
}

const q = (cpu: FakeCpu, at: bigint | number, i: number, size = 8): bigint =>
  size === 8 ? cpu.mem.view.getBigUint64(Number(at) + i * 8, true) : BigInt(size === 4 ? cpu.mem.view.getUint32(Number(at) + i * 4, true) : cpu.mem.view.getUint16(Number(at) + i * 2, true));

function longCpu(): FakeCpu {
  const cpu = new FakeCpu();
  gdt(cpu, [0n, CODE64, DATA, 0n, UDATA, UCODE64]);
  cpu.tables.idt = { base: BigInt(IDT), limit: 256 * 16 - 1 };
  // 64-bit TSS: RSP0 at 4, IST1 at 36.
  cpu.mem.view.setBigUint64(TSS + 4, BigInt(STACK0), true);
  cpu.mem.view.setBigUint64(TSS + 36, BigInt(IST1), true);
  cpu.segs.tr = { ...cpu.segs.tr, base: BigInt(TSS), limit: 0x67, selector: 0x30 };
  Object.assign(cpu.regs, { rip: BigInt(CODE), rsp: BigInt(STACK - 8), rflags: 0x202n | TF });
  return cpu;
}

function toUser64(cpu: FakeCpu): void {
  cpu.segs.cs = { ...cpu.segs.cs, selector: 0x2b, dpl: 3 };
  cpu.segs.ss = { ...cpu.segs.ss, selector: 0x23, dpl: 3 };
}

t.test('IA-32e: INT n at CPL 0 through an interrupt gate', async (t) => {
  const cpu = longCpu();
  gate64(cpu, 0x40);
  t.same(run(cpu, [0xcd, 0x40]), { kind: 'done', name: 'int' });
  const sp = BigInt(STACK - 16 - 40); // RSP aligned down to 16, then five 8-byte pushes
  t.equal(cpu.regs.rsp, sp, 'RSP aligned and five slots pushed');
  t.same([q(cpu, sp, 0), q(cpu, sp, 1), q(cpu, sp, 2), q(cpu, sp, 3), q(cpu, sp, 4)],
    [BigInt(CODE + 2), 0x08n, 0x302n, BigInt(STACK - 8), 0x10n], 'frame: RIP CS RFLAGS RSP SS');
  t.equal(cpu.regs.rip, BigInt(HANDLER));
  t.equal(cpu.regs.rflags & (IF | TF), 0n, 'interrupt gate clears IF and TF');
});

t.test('IA-32e: trap gate keeps IF; IST switches stacks at the same CPL', async (t) => {
  const cpu = longCpu();
  gate64(cpu, 0x41, { type: 0xf, ist: 1 });
  t.match(run(cpu, [0xcd, 0x41]), { kind: 'done' });
  t.equal(cpu.regs.rsp, BigInt(IST1 - 40));
  t.equal(cpu.regs.rflags & IF, IF);
});

t.test('IA-32e: INT 0x80 from CPL 3 through a DPL-3 gate enters CPL 0 on RSP0', async (t) => {
  const cpu = longCpu();
  toUser64(cpu);
  gate64(cpu, 0x80, { dpl: 3 });
  t.match(run(cpu, [0xcd, 0x80]), { kind: 'done' });
  const sp = BigInt(STACK0 - 40);
  t.equal(cpu.regs.rsp, sp);
  t.same([q(cpu, sp, 1), q(cpu, sp, 3), q(cpu, sp, 4)], [0x2bn, BigInt(STACK - 8), 0x23n], 'user CS, RSP, SS saved');
  t.equal(cpu.segs.cs.selector, 0x08);
  t.same([cpu.segs.ss.selector, cpu.segs.ss.dpl], [0, 0], 'SS is the null selector with RPL 0; CPL 0');

  t.test('IRETQ returns to CPL 3', async (t) => {
    cpu.regs.rip = BigInt(HANDLER);
    t.same(run(cpu, [0x48, 0xcf]), { kind: 'done', name: 'iret' });
    t.same([cpu.regs.rip, cpu.regs.rsp, cpu.segs.cs.selector, cpu.segs.ss.selector, cpu.segs.ss.dpl],
      [BigInt(CODE + 2), BigInt(STACK - 8), 0x2b, 0x23, 3]);
    t.equal(cpu.regs.rflags & (IF | TF), IF | TF, 'RFLAGS restored');
  });
});

t.test('IA-32e: faults of INT n carry the SDM error codes', async (t) => {
  const cpu = longCpu();
  toUser64(cpu);
  gate64(cpu, 0x41);
  t.same(run(cpu, [0xcd, 0x41]), { kind: 'exception', vector: 13, errorCode: 0x41 * 8 + 2, cr2: null }, 'gate DPL < CPL: #GP(vector*8+2)');
  gate64(cpu, 0x42, { dpl: 3, present: false });
  t.same(run(cpu, [0xcd, 0x42]), { kind: 'exception', vector: 11, errorCode: 0x42 * 8 + 2, cr2: null }, 'gate not present: #NP');
  gate64(cpu, 0x43, { dpl: 3, type: 0x6 });
  t.match(run(cpu, [0xcd, 0x43]), { kind: 'exception', vector: 13, errorCode: 0x43 * 8 + 2 }, '16-bit gate in IA-32e mode: #GP');
  gate64(cpu, 0x44, { dpl: 3, sel: 0x10 });
  t.match(run(cpu, [0xcd, 0x44]), { kind: 'exception', vector: 13, errorCode: 0x10 }, 'gate names a data segment: #GP(selector)');
  gate64(cpu, 0x45, { dpl: 3, sel: 0 });
  t.match(run(cpu, [0xcd, 0x45]), { kind: 'exception', vector: 13, errorCode: 0 }, 'null selector: #GP(0)');
  cpu.tables.idt.limit = 0x46 * 16 - 1;
  t.match(run(cpu, [0xcd, 0x46]), { kind: 'exception', vector: 13, errorCode: 0x46 * 8 + 2 }, 'beyond the IDT limit: #GP');
  t.match(run(cpu, [0xce]), { kind: 'exception', vector: 6 }, 'INTO in 64-bit mode: #UD');
  t.equal(cpu.regs.rip, BigInt(CODE), 'no fault moved RIP');
});

t.test('IA-32e: a stack that is not mapped gives #PF with CR2 and the write bit', async (t) => {
  const cpu = longCpu();
  gate64(cpu, 0x40);
  cpu.regs.rsp = 0x900008n; // above the 8 MiB identity map
  t.same(run(cpu, [0xcd, 0x40]), { kind: 'exception', vector: 14, errorCode: 2, cr2: 0x8ffff8n });
});

t.test('IA-32e: IRETQ checks the code segment', async (t) => {
  const cpu = longCpu();
  const sp = STACK - 64;
  [BigInt(CODE), 0x08n | 0n, 0x202n, BigInt(STACK), 0x10n].forEach((v, i) => cpu.mem.view.setBigUint64(sp + i * 8, v, true));
  cpu.regs.rsp = BigInt(sp);
  cpu.mem.view.setBigUint64(sp + 8, 0x10n, true);
  t.match(run(cpu, [0x48, 0xcf]), { kind: 'exception', vector: 13, errorCode: 0x10 }, 'return to a data segment: #GP(selector)');
  cpu.mem.view.setBigUint64(sp + 8, 0x08n, true);
  t.match(run(cpu, [0x48, 0xcf]), { kind: 'done' }, 'same-level IRETQ');
  t.same([cpu.regs.rip, cpu.regs.rsp, cpu.regs.rflags], [BigInt(CODE), BigInt(STACK), 0x202n]);
});

function protectedCpu(): FakeCpu {
  const cpu = new FakeCpu().toProtected32();
  // 0x28: a 32-bit TSS with SS0:ESP0.
  const tssDesc = (BigInt(TSS) & 0xffffffn) << 16n | 0x67n | (0x89n << 40n);
  gdt(cpu, [0n, CODE32, DATA, UCODE32, UDATA, tssDesc]);
  cpu.tables.idt = { base: BigInt(IDT), limit: 256 * 8 - 1 };
  cpu.mem.view.setUint32(TSS + 4, STACK0, true);
  cpu.mem.view.setUint32(TSS + 8, 0x10, true);
  cpu.segs.tr = { ...cpu.segs.tr, base: BigInt(TSS), limit: 0x67, selector: 0x28, type: 0xb };
  Object.assign(cpu.regs, { rip: BigInt(CODE), rsp: BigInt(STACK), rflags: 0x202n });
  return cpu;
}

t.test('32-bit protected mode: INT n and IRETD at the same level', async (t) => {
  const cpu = protectedCpu();
  gate32(cpu, 0x40);
  t.match(run(cpu, [0xcd, 0x40]), { kind: 'done' });
  const sp = STACK - 12;
  t.equal(cpu.regs.rsp, BigInt(sp));
  t.same([q(cpu, sp, 0, 4), q(cpu, sp, 1, 4), q(cpu, sp, 2, 4)], [BigInt(CODE + 2), 0x08n, 0x202n], 'frame: EIP CS EFLAGS');
  t.equal(cpu.regs.rflags & IF, 0n);
  t.same(run(cpu, [0xcf]), { kind: 'done', name: 'iret' });
  t.same([cpu.regs.rip, cpu.regs.rsp, cpu.regs.rflags], [BigInt(CODE + 2), BigInt(STACK), 0x202n]);
});

t.test('32-bit protected mode: from CPL 3 to CPL 0 on SS0:ESP0 and back', async (t) => {
  const cpu = protectedCpu();
  cpu.segs.cs = { ...cpu.segs.cs, selector: 0x1b, dpl: 3 };
  for (const s of ['ss', 'ds', 'es'] as const) cpu.segs[s] = { ...cpu.segs[s], selector: 0x23, dpl: 3 };
  gate32(cpu, 0x80, { dpl: 3 });
  t.match(run(cpu, [0xcd, 0x80]), { kind: 'done' });
  const sp = STACK0 - 20;
  t.same([cpu.regs.rsp, cpu.segs.ss.selector, cpu.segs.cs.selector], [BigInt(sp), 0x10, 0x08]);
  t.same([q(cpu, sp, 0, 4), q(cpu, sp, 1, 4), q(cpu, sp, 3, 4), q(cpu, sp, 4, 4)], [BigInt(CODE + 2), 0x1bn, BigInt(STACK), 0x23n]);
  // The kernel loads its data segments before returning; IRET to CPL 3 nulls any left at DPL 0.
  cpu.segs.es = { ...cpu.segs.es, selector: 0x10, dpl: 0 };
  t.match(run(cpu, [0xcf]), { kind: 'done' });
  t.same([cpu.regs.rip, cpu.regs.rsp, cpu.segs.cs.selector, cpu.segs.ss.selector], [BigInt(CODE + 2), BigInt(STACK), 0x1b, 0x23]);
  t.same([cpu.segs.es.selector, cpu.segs.es.unusable, cpu.segs.ds.selector], [0, 1, 0x23], 'ES (DPL 0) nulled, DS kept');
  t.match(run(cpu, [0xcd, 0x40]), { kind: 'exception', vector: 13 }, 'no gate there');
});

t.test('32-bit protected mode: a 16-bit interrupt gate pushes words; INTO only with OF', async (t) => {
  const cpu = protectedCpu();
  gate32(cpu, 0x40, { type: 0x6 });
  t.match(run(cpu, [0xcd, 0x40]), { kind: 'done' });
  t.equal(cpu.regs.rsp, BigInt(STACK - 6));
  t.equal(cpu.regs.rip, BigInt(HANDLER & 0xffff));
  const c2 = protectedCpu();
  gate32(c2, 4);
  t.match(run(c2, [0xce]), { kind: 'done', name: 'into' });
  t.equal(c2.regs.rip, BigInt(CODE + 1), 'OF clear: no interrupt');
  c2.regs.rflags |= 0x800n;
  t.match(run(c2, [0xce]), { kind: 'done' });
  t.equal(c2.regs.rip, BigInt(HANDLER), 'OF set: #OF delivered as a trap');
  t.equal(q(c2, STACK - 12, 0, 4), BigInt(CODE + 2), 'return address after INTO');
});

t.test('real mode: INT n through the IVT and IRET', async (t) => {
  const cpu = new FakeCpu();
  cpu.cr.cr0 = 0x10n; cpu.cr.cr4 = 0n; cpu.cr.efer = 0n;
  const seg = (sel: number) => ({ ...cpu.segs.ds, selector: sel, base: BigInt(sel << 4), limit: 0xffff, db: 0, l: 0 });
  cpu.segs.cs = { ...seg(0x100), type: 0xb };
  cpu.segs.ss = seg(0x200);
  cpu.tables.idt = { base: 0n, limit: 0x3ff };
  cpu.mem.view.setUint16(0x21 * 4, 0x1234, true);
  cpu.mem.view.setUint16(0x21 * 4 + 2, 0x300, true);
  Object.assign(cpu.regs, { rip: 0x10n, rsp: 0x100n, rflags: 0x202n });
  t.match(run(cpu, [0xcd, 0x21]), { kind: 'done' });
  t.same([cpu.segs.cs.selector, cpu.regs.rip, cpu.regs.rsp, cpu.regs.rflags & IF], [0x300, 0x1234n, 0xfan, 0n]);
  t.same([q(cpu, 0x2000 + 0xfa, 0, 2), q(cpu, 0x2000 + 0xfa, 1, 2), q(cpu, 0x2000 + 0xfa, 2, 2)], [0x12n, 0x100n, 0x202n]);
  t.match(run(cpu, [0xcf]), { kind: 'done' });
  t.same([cpu.segs.cs.selector, cpu.regs.rip, cpu.regs.rsp, cpu.regs.rflags], [0x100, 0x12n, 0x100n, 0x202n]);
});
