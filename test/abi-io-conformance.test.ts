// abi-io-conformance.test.ts: the device-protocol ABI in abi/io (ring, blkif, netif, console, xs_wire,
// xenbus) against Xen's io/*.h — every constant, string, struct, ring and the xsd_errors table is
// probed in both ring ABIs, and a wrong value in any of them makes the probe fail.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AbiModule } from '../abi/index.ts';
import { IO_MODULES } from '../abi/io/index.ts';
import { defineConstants, defineStrings, defineStruct } from '../abi/layout.ts';
import { defineRing, ringEntries } from '../abi/io/ring.ts';
import {
  BlkifRequest, BlkifRequestSegment, BlkifResponse, BlkifRing, BlkifX86_32Ring, BLKIF_SEGS_PER_INDIRECT_FRAME,
} from '../abi/io/blkif.ts';
import { XSD_ERROR_TABLE } from '../abi/io/xs-wire.ts';
import { XenconsInterface, XENCONS } from '../abi/io/console.ts';
import { collectProbeItems, type ProbeItem, type ProbeMode } from '../abi/gen/conformance-probe.ts';
import { XEN_H, check, gccTargetProblem, runProbe, type ProbeResult } from './helpers/abi-probe.ts';

const CI = process.env.CI === 'true';
const NO_XEN = existsSync(XEN_H) ? null : 'libxen-dev not installed';
const NO_M32 = NO_XEN ?? gccTargetProblem('m32');
if (CI && NO_XEN) t.fail(`${XEN_H} missing: libxen-dev is required under CI=true`);
if (CI && NO_M32) t.fail(`${NO_M32} (required under CI=true)`);

function probe(mode: ProbeMode, modules: readonly AbiModule[]): ProbeResult {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-abi-io-probe-'));
  try {
    return runProbe(dir, mode, collectProbeItems(mode, modules));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function failures(mode: ProbeMode, res: ProbeResult): string[] {
  const out: string[] = [];
  check({ fail: (m) => out.push(m), pass: () => undefined }, mode, res);
  return out;
}

function byKind(items: Iterable<ProbeItem>): Record<string, number> {
  const n: Record<string, number> = {};
  for (const it of items) n[it.kind] = (n[it.kind] ?? 0) + 1;
  return n;
}

t.test('abi/io derived values', async (t) => {
  t.equal(ringEntries(4096, BlkifRing.entrySize), 32, 'a one-page blkif ring holds 32 requests');
  t.equal(ringEntries(4096 << 2, BlkifRing.entrySize), 128, 'four pages: 128');
  t.equal(ringEntries(4096, BlkifX86_32Ring.entrySize), 32, 'x86_32: also 32 (37 fit, rounded down)');
  t.equal(ringEntries(64 + 111, 112), 0, 'no room for one entry: 0');
  t.equal(BlkifRing.entrySize, 112);
  t.equal(BlkifX86_32Ring.entrySize, 108);
  t.equal(BLKIF_SEGS_PER_INDIRECT_FRAME, 512);
  t.equal(XENCONS.values.IN_SIZE, 1024);
  t.equal(XENCONS.values.OUT_SIZE, 2048);
  t.same(XenconsInterface.notInXen, ['connection']);
  t.same(BlkifRequestSegment.padding, ['_pad'], 'the segment tail is named padding');
  t.notOk(collectProbeItems('m64', IO_MODULES).some((i) => i.label.includes('_pad')), 'named padding is not probed');
  t.throws(() => defineStruct('x', 8, [['a', 0, 'u32']], { notInXen: ['b' as 'a'] }), /notInXen\/padding is not a field/);
  t.throws(() => defineStrings('x', 'X_', { A: 'a"b' }), /plain ASCII/);
});

t.test('abi/io matches Xen io/*.h (-m64)', { skip: NO_XEN ?? false }, async (t) => {
  const res = probe('m64', IO_MODULES);
  const n = check(t, 'm64', res);
  const kinds = byKind(res.values.keys());
  t.ok(n >= 200, `${n} native io items checked (${JSON.stringify(kinds)})`);
  for (const k of ['constant', 'string', 'sizeof', 'offsetof', 'membersize', 'ring', 'table']) {
    t.ok((kinds[k] ?? 0) > 0, `${k} items were compared`);
  }
  t.equal(kinds.table, XSD_ERROR_TABLE.names.length + 1, 'every xsd_errors entry and the table length');
});

t.test('abi/io x86_32 layouts match Xen io/*.h (-m32)', { skip: NO_M32 ?? false }, async (t) => {
  const res = probe('m32', IO_MODULES);
  const n = check(t, 'm32', res);
  const kinds = byKind(res.values.keys());
  t.ok(n >= 60, `${n} x86_32 io items checked (${JSON.stringify(kinds)})`);
  t.ok((kinds.ring ?? 0) > 0 && (kinds.offsetof ?? 0) > 0, 'the x86_32 ring and structs were compared');
});

t.test('a wrong io value fails the probe', { skip: NO_XEN ?? false }, async (t) => {
  // Each mutation is a copy of a real abi/io declaration with one thing wrong.
  const badRequest = defineStruct('blkif_request', 112, [
    ['operation', 0, 'u8'], ['nr_segments', 1, 'u8'], ['handle', 2, 'u16'], ['id', 4, 'u64'],
    ['sector_number', 16, 'u64'], ['seg', 24, BlkifRequestSegment, 11],
  ]);
  const badRing = defineRing('blkif', 'x86_64', [['req', BlkifRequest], ['rsp', BlkifResponse]]);
  const longRing = { ...badRing, entrySize: 128 };
  const badTable = { ...XSD_ERROR_TABLE, names: ['EACCES', 'EINVAL'] as const, errnos: [13, 22] };
  const badString = defineStrings('bad', 'XEN_IO_PROTO_ABI_', { X86_64: 'x86-64-abi' });
  const badState = defineConstants('bad', 'XenbusState', { Connected: 3 }, { cEnum: 'xenbus_state' });
  const badCons = defineStruct('xencons_interface', 3092, [
    ['in', 0, 'u8', 1024], ['out', 1024, 'u8', 2048], ['in_cons', 3072, 'u32'], ['in_prod', 3080, 'u32'],
    ['connection', 3088, 'u8'],
  ], { notInXen: ['connection'] });
  const mods: AbiModule[] = [{
    header: 'io/bad.h', constants: [badState], strings: [badString], structs: [badRequest, badCons],
    fragments: [longRing, badTable],
  }];
  const fails = failures('m64', probe('m64', mods));
  const text = fails.join('\n');
  t.match(text, /offsetof\(struct blkif_request, id\): abi value 4 .* != Xen header value 8/, 'a wrong blkif offset');
  t.match(text, /sizeof\(union blkif_sring_entry\): abi value 128 .* != Xen header value 112/, 'a wrong ring entry size');
  t.match(text, /__CONST_RING_SIZE\(blkif, 4096\): abi value 16 .* != Xen header value 32/, 'and the ring sizes it gives');
  t.match(text, /entries of xsd_errors: abi value 2 .* != Xen header value 16/, 'a short xsd_errors table');
  t.match(text, /xsd_errors\[0\] is EACCES: abi value 13 .* != Xen header value 22/, 'a wrong name at an index');
  t.match(text, /XEN_IO_PROTO_ABI_X86_64 bytes 0\.\.7/, 'a wrong string');
  t.match(text, /XenbusStateConnected: abi value 3 .* != Xen header value 4/, 'a wrong XenbusState');
  t.match(text, /offsetof\(struct xencons_interface, in_prod\): abi value 3080 .* != Xen header value 3076/, 'a wrong console offset');
  t.notMatch(text, /xencons_interface, connection/, 'a field newer than the headers is not a failure');
});

t.test('a wrong x86_32 blkif layout fails the probe', { skip: NO_M32 ?? false }, async (t) => {
  const bad = defineStruct('blkif_x86_32_request', 112, [
    ['operation', 0, 'u8'], ['nr_segments', 1, 'u8'], ['handle', 2, 'u16'], ['id', 8, 'u64'],
    ['sector_number', 16, 'u64'], ['seg', 24, BlkifRequestSegment, 11],
  ], { xenName: 'blkif_request' });
  const ring = { ...BlkifX86_32Ring, entrySize: 112 };
  const mods: AbiModule[] = [{ header: 'io/bad.h', constants: [], structs: [], compatStructs: [bad], fragments: [ring] }];
  const text = failures('m32', probe('m32', mods)).join('\n');
  t.match(text, /\[m32\] sizeof\(struct blkif_request\): abi value 112 .* != Xen header value 108/, 'the native size is wrong for i386');
  t.match(text, /\[m32\] offsetof\(struct blkif_request, id\): abi value 8 .* != Xen header value 4/, 'the native id offset is wrong for i386');
  t.match(text, /\[m32\] sizeof\(union blkif_sring_entry\): abi value 112 .* != Xen header value 108/, 'the entry size too');
});
