// abi-conformance.test.ts: every abi/ constant and struct layout that Xen also defines is compared
// with Xen's real public headers (Debian libxen-dev), by compiling a probe to assembly with gcc.
// Also checks that the layout data in abi/ is self-consistent.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ABI_MODULES, type AbiModule } from '../abi/index.ts';
import { defineConstants, defineStruct, fieldSize, type StructDef } from '../abi/layout.ts';
import { SharedInfo32, SharedInfo64, VcpuInfo32, VcpuInfo64, VcpuTimeInfo } from '../abi/shared-info.ts';
import { HvmStartInfo } from '../abi/start-info.ts';
import { MulticallEntry } from '../abi/multicall.ts';
import { E820Entry } from '../abi/memory.ts';
import { collectProbeItems } from '../abi/gen/conformance-probe.ts';
import { XEN_H, check, gccTargetProblem, runProbe } from './helpers/abi-probe.ts';

const CI = process.env.CI === 'true';

const NO_XEN = existsSync(XEN_H) ? null : 'libxen-dev not installed';
const NO_M32 = NO_XEN ?? gccTargetProblem('m32');
if (CI && NO_XEN) t.fail(`${XEN_H} missing: libxen-dev is required under CI=true`);
if (CI && NO_M32) t.fail(`${NO_M32} (required under CI=true)`);

t.test('abi matches Xen public headers (-m64)', { skip: NO_XEN ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-abi-probe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const native = runProbe(dir, 'm64', collectProbeItems('m64'));
  // Some guest-ABI numbers (e.g. XENMEM_claim_pages) sit in `__XEN_TOOLS__`-only blocks in 4.17:
  // retry the constants the guest view lacks with that defined (struct layouts keep the guest view).
  const retry = [...native.errors.keys()].filter((i) => i.kind === 'constant');
  if (retry.length > 0) {
    const tools = runProbe(dir, 'm64', retry, ['-D__XEN_TOOLS__']);
    for (const [it, v] of tools.values) { native.errors.delete(it); native.values.set(it, v); }
  }
  const n64 = check(t, 'm64', native);
  t.ok(n64 > 150, `checked a non-trivial number of native items (${n64})`);
  const constants = [...native.values.keys()].filter((i) => i.kind === 'constant').length;
  t.ok(constants > 100, `checked ${constants} constants`);
});

// The compat (i386) layouts: the same Xen struct names compiled with -m32.
t.test('compat layouts match Xen public headers (-m32)', { skip: NO_M32 ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-abi-probe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const items = collectProbeItems('m32');
  t.ok(items.length > 0, 'there are compat structs to check');
  const n32 = check(t, 'm32', runProbe(dir, 'm32', items));
  t.ok(n32 > 30, `checked the compat layouts (${n32} items)`);
});

t.test('the probe catches wrong values and unknown names', { skip: NO_XEN ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-abi-probe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const wrongTime = defineStruct('vcpu_time_info', 32, [['system_time', 8, 'u64']]);
  const mods: AbiModule[] = [{
    header: 'bogus.h',
    constants: [defineConstants('bogus', 'XEN_', { EPERM: 2, EINVAL: 22, NO_SUCH_MACRO: 1 })],
    structs: [wrongTime],
  }];
  const res = runProbe(dir, 'm64', collectProbeItems('m64', mods));
  const byLabel = new Map([...res.values].map(([i, v]) => [i.label, { i, v }]));
  const eperm = byLabel.get('XEN_EPERM');
  t.ok(eperm && eperm.v === 1n && eperm.i.expected === 2n, 'a wrong constant is read back with its real value');
  t.equal(byLabel.get('XEN_EINVAL')?.v, 22n, 'a right constant matches');
  const off = byLabel.get('offsetof(struct vcpu_time_info, system_time)');
  t.ok(off && off.v === 16n && off.i.expected === 8n, 'a wrong offset is read back with its real value');
  t.same([...res.errors.keys()].map((i) => i.label), ['XEN_NO_SUCH_MACRO'], 'an unknown name is reported');
  const fails: string[] = [];
  check({ fail: (m) => fails.push(m), pass: () => undefined }, 'm64', res);
  t.equal(fails.length, 3, 'check() reports all three problems');
  t.match(fails.join('\n'), /XEN_EPERM: abi value 2 .* != Xen header value 1/, 'the message names item, abi and header value');
});

t.test('abi layout data is self-consistent', async (t) => {
  t.equal(VcpuTimeInfo.size, 32, 'vcpu_time_info is 32 bytes');
  t.equal(VcpuInfo64.size, 64, 'vcpu_info is 64 bytes');
  t.equal(VcpuInfo32.size, 64, 'compat vcpu_info is 64 bytes');
  t.equal(SharedInfo64.size, 3136, 'shared_info is 3136 bytes');
  t.equal(SharedInfo32.size, 2344, 'compat shared_info is 2344 bytes');
  t.equal(HvmStartInfo.size, 56, 'hvm_start_info is 56 bytes');
  t.equal(MulticallEntry.size, 64, 'multicall_entry is 64 bytes');
  t.equal(E820Entry.size, 20, 'e820entry is packed, 20 bytes');
  t.equal(SharedInfo64.byName.evtchn_pending.offset, 32 * 64, 'evtchn_pending follows 32 vcpu_infos');
  t.equal(SharedInfo32.byName.evtchn_pending.offset, 32 * 64, 'compat evtchn_pending follows 32 vcpu_infos');

  const cNames = new Map<string, string>();
  const macros = new Map<string, bigint>();
  const headers = new Set<string>();
  const problems: string[] = [];
  const visit = (s: StructDef, where: string) => {
    const prev = cNames.get(s.cName);
    if (prev !== undefined && prev !== where) problems.push(`struct ${s.cName} declared in ${prev} and ${where}`);
    cNames.set(s.cName, where);
    if (s.fields.length === 0) problems.push(`${s.cName} has no fields`);
    const names = new Set<string>();
    const unionOf = new Map(s.unions.flatMap((g) => g.map((n) => [n, g] as const)));
    let end = 0;
    let union: readonly string[] | undefined;
    for (const f of [...s.fields].sort((a, b) => a.offset - b.offset)) {
      if (names.has(f.name)) problems.push(`${s.cName}.${f.name} declared twice`);
      names.add(f.name);
      if (s.byName[f.name] !== f) problems.push(`${s.cName}.byName.${f.name} is stale`);
      // Members of one declared union share their offset; anything else must not overlap.
      const g = unionOf.get(f.name);
      const sameUnion = g !== undefined && g === union && f.offset === s.byName[g[0]!]!.offset;
      union = g;
      if (!Number.isInteger(f.offset) || (f.offset < end && !sameUnion)) problems.push(`${s.cName}.${f.name} overlaps`);
      if (!Number.isInteger(f.count) || f.count < 1) problems.push(`${s.cName}.${f.name} has count ${f.count}`);
      if (!/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(f.name)) problems.push(`${s.cName}.${f.name}: bad name`);
      end = Math.max(end, f.offset + fieldSize(f));
      if (typeof f.type !== 'string') visit(f.type, where);
    }
    if (end > s.size) problems.push(`${s.cName} fields end at ${end} > size ${s.size}`);
  };
  for (const mod of ABI_MODULES) {
    if (headers.has(mod.header)) problems.push(`header ${mod.header} listed twice`);
    headers.add(mod.header);
    for (const s of [...mod.structs, ...(mod.compatStructs ?? [])]) visit(s, mod.header);
    for (const g of mod.constants) {
      for (const [k, v] of Object.entries(g.values) as [string, number | bigint][]) {
        const name = g.cPrefix + k;
        if (typeof v === 'number' && !Number.isSafeInteger(v)) problems.push(`${name} = ${v} is not an integer`);
        const prev = macros.get(name);
        if (prev !== undefined && prev !== BigInt(v)) problems.push(`${name} defined twice with different values`);
        macros.set(name, BigInt(v));
      }
      for (const k of g.notInXen ?? []) {
        if (!(k in g.values)) problems.push(`${g.cPrefix}${k}: notInXen names no constant`);
      }
    }
  }
  t.same(problems, [], 'no inconsistencies in ABI_MODULES');
  t.ok(macros.size > 150, `ABI_MODULES defines ${macros.size} constants`);
});
