// conformance-probe.ts: builds a C probe that evaluates every checkable ABI item against Xen's own
// public headers (Debian libxen-dev, /usr/include/xen). The probe is only ever compiled to assembly
// (`gcc -S`): each item becomes an initialised `unsigned long long` whose value is read back out of the
// `.long`/`.quad` directives, so it works for -m64 and -m32 alike without a 32-bit libc. Strings are
// compared as their bytes, rings by entry size, header offsets and __CONST_RING_SIZE.
import { ABI_MODULES, type AbiModule } from '../index.ts';
import { E } from '../errno.ts';
import { SringHeader, ringEntries, type RingDef } from '../io/ring.ts';
import type { ErrnoTable } from '../io/xs-wire.ts';
import type { StringGroup, StructDef } from '../layout.ts';

/**
 * The interface version the probe asks for. 0x00040e00 is `__XEN_LATEST_INTERFACE_VERSION__` of the
 * Xen 4.17 headers (a higher value is an #error); it gives the current layouts, e.g.
 * `vcpu_time_info.flags`, which exists only above 0x040600.
 */
export const XEN_INTERFACE_VERSION = 0x00040e00;

/** Xen public headers the probe includes, relative to the include directory. */
export const XEN_PROBE_HEADERS: readonly string[] = [
  'xen/xen.h', 'xen/errno.h', 'xen/elfnote.h', 'xen/features.h', 'xen/version.h', 'xen/sched.h',
  'xen/memory.h', 'xen/event_channel.h', 'xen/hvm/hvm_op.h', 'xen/hvm/params.h',
  'xen/arch-x86/cpuid.h', 'xen/arch-x86/hvm/start_info.h', 'xen/vcpu.h', 'xen/hvm/hvm_vcpu.h',
  'xen/grant_table.h', 'xen/io/ring.h', 'xen/io/protocols.h', 'xen/io/blkif.h', 'xen/io/console.h',
  'xen/io/xenbus.h', 'xen/io/netif.h',
];

/**
 * Included last, after the errno-table prelude: xs_wire.h declares its `xsd_errors` table only
 * when EINVAL is defined, filling `errnum` from the includer's errno macros. The probe defines
 * each name as its Xen errno (all distinct), so `xsd_errors[i].errnum` tells which name Xen put at
 * index i: the order and the names are checked without comparing strings.
 */
export const XEN_PROBE_LATE_HEADERS: readonly string[] = ['xen/io/xs_wire.h'];

/** Orders of the ring sizes the probe compares (1 to 16 pages). */
const RING_ORDERS = [0, 1, 2, 3, 4];

export type ProbeMode = 'm64' | 'm32';

export interface ProbeItem {
  /** Symbol the value is stored under in the assembly (`pvkvm_probe_<n>`). */
  readonly symbol: string;
  readonly kind: 'constant' | 'string' | 'sizeof' | 'offsetof' | 'membersize' | 'ring' | 'table';
  /** Human-readable name of what is checked, e.g. `offsetof(struct vcpu_info, arch.cr2)`. */
  readonly label: string;
  /** Where the expected value comes from, e.g. `abi compat_shared_info.arch.wc_sec_hi`. */
  readonly source: string;
  readonly expected: bigint;
  /** C expression evaluated against the Xen headers. */
  readonly expr: string;
  /** The item may be absent from the headers (a `notInXen` constant): absent is not a failure. */
  readonly optional: boolean;
  /** A second value that also passes: the size headers older than a struct's notInXen fields give. */
  readonly alsoMatches?: bigint;
}

export interface Probe {
  readonly mode: ProbeMode;
  readonly source: string;
  readonly items: readonly ProbeItem[];
  /** 1-based source line → item defined on it (to attribute compiler errors). */
  readonly itemAtLine: ReadonlyMap<number, ProbeItem>;
}

/** The compiler flags for a probe; callers add `-S -o <out> <file>`. */
export function probeCflags(mode: ProbeMode): string[] {
  return [
    mode === 'm64' ? '-m64' : '-m32', '-ffreestanding', '-std=gnu11', '-O0', '-w',
    `-D__XEN_INTERFACE_VERSION__=0x${XEN_INTERFACE_VERSION.toString(16).padStart(8, '0')}`,
  ];
}

function asU64(v: number | bigint): bigint {
  return BigInt.asUintN(64, BigInt(v));
}

function fieldSize(type: StructDef['fields'][number]['type'], count: number): number {
  const one = typeof type === 'string' ? Number(type.slice(1)) / 8 : type.size;
  return one * count;
}

/** Every item to check in one compilation mode (before any are dropped for compile errors). */
export function collectProbeItems(mode: ProbeMode, modules: readonly AbiModule[] = ABI_MODULES): ProbeItem[] {
  const items: Omit<ProbeItem, 'symbol'>[] = [];
  const seen = new Set<string>();
  const push = (it: Omit<ProbeItem, 'symbol'>) => {
    const key = `${it.kind}:${it.expr}`;
    if (seen.has(key)) return;
    seen.add(key);
    items.push(it);
  };
  for (const mod of modules) {
    if (mode === 'm64') {
      for (const g of mod.constants) {
        if (!g.inXenHeaders) continue;
        const absent = new Set<string>(g.notInXen ?? []);
        for (const [k, v] of Object.entries(g.values) as [string, number | bigint][]) {
          const name = g.cPrefix + k;
          push({
            kind: 'constant', label: name, source: `abi ${g.title} (${mod.header})`,
            expected: asU64(v), expr: `(unsigned long long)(${name})`, optional: absent.has(k),
          });
        }
      }
      for (const g of mod.strings ?? []) for (const it of stringItems(g, mod.header)) push(it);
    }
    const structs = mode === 'm64' ? mod.structs : (mod.compatStructs ?? []);
    for (const s of structs) for (const it of structItems(s)) push(it);
    for (const f of mod.fragments ?? []) {
      if (f.kind === 'ring' && (f.abi === 'x86_64') === (mode === 'm64')) for (const it of ringItems(f)) push(it);
      if (f.kind === 'errno-table' && mode === 'm64') for (const it of errnoTableItems(f)) push(it);
    }
  }
  return items.map((it, i) => ({ ...it, symbol: `pvkvm_probe_${i}` }));
}

function structItems(s: StructDef): Omit<ProbeItem, 'symbol'>[] {
  if (s.xenName === null) return [];
  const ty = `struct ${s.xenName}`;
  const newer = new Set(s.notInXen);
  const out: Omit<ProbeItem, 'symbol'>[] = [{
    kind: 'sizeof', label: `sizeof(${ty})`, source: `abi ${s.cName}`,
    expected: BigInt(s.size), expr: `sizeof(${ty})`, optional: false,
    ...(newer.size > 0 ? { alsoMatches: BigInt(sizeWithout(s, newer)) } : {}),
  }];
  for (const f of s.fields) {
    if (s.padding.includes(f.name)) continue; // unnamed in Xen's header
    const optional = newer.has(f.name);
    out.push({
      kind: 'offsetof', label: `offsetof(${ty}, ${f.name})`, source: `abi ${s.cName}.${f.name}`,
      expected: BigInt(f.offset), expr: `__builtin_offsetof(${ty}, ${f.name})`, optional,
    });
    out.push({
      kind: 'membersize', label: `sizeof(((${ty} *)0)->${f.name})`, source: `abi ${s.cName}.${f.name}`,
      expected: BigInt(fieldSize(f.type, f.count)), expr: `sizeof(((${ty} *)0)->${f.name})`, optional,
    });
  }
  return out;
}

/** The size of `s` as headers without its `newer` fields declare it (they are all at the end). */
function sizeWithout(s: StructDef, newer: ReadonlySet<string>): number {
  let end = 0;
  let align = 1;
  for (const f of s.fields) {
    if (newer.has(f.name)) continue;
    end = Math.max(end, f.offset + fieldSize(f.type, f.count));
    align = Math.max(align, typeof f.type === 'string' ? Number(f.type.slice(1)) / 8 : f.type.align);
  }
  return Math.ceil(end / align) * align;
}

/** A string macro: its sizeof, then its bytes eight at a time as little-endian integers. */
function stringItems(g: StringGroup, header: string): Omit<ProbeItem, 'symbol'>[] {
  if (!g.inXenHeaders) return [];
  const absent = new Set<string>(g.notInXen ?? []);
  const out: Omit<ProbeItem, 'symbol'>[] = [];
  for (const [k, v] of Object.entries(g.values) as [string, string][]) {
    const name = g.cPrefix + k;
    const bytes = [...Buffer.from(`${v}\0`, 'latin1')];
    const source = `abi ${g.title} (${header}) "${v}"`;
    out.push({ kind: 'string', label: `sizeof(${name})`, source, expected: BigInt(bytes.length), expr: `sizeof(${name})`, optional: absent.has(k) });
    for (let at = 0; at < bytes.length; at += 8) {
      const chunk = bytes.slice(at, at + 8);
      const expected = chunk.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
      // Indexing a string literal folds to a constant; the guard keeps a shorter string in bounds.
      const expr = chunk.map((_, j) => {
        const i = at + j;
        return `((unsigned long long)(${i} < sizeof(${name}) ? (unsigned char)(${name})[${i}] : 0) << ${8 * j})`;
      }).join(' | ');
      out.push({ kind: 'string', label: `${name} bytes ${at}..${at + chunk.length - 1}`, source, expected, expr, optional: absent.has(k) });
    }
  }
  return out;
}

/** A ring: its entry size, where the entries start, the header indices and the ring sizes. */
function ringItems(r: RingDef): Omit<ProbeItem, 'symbol'>[] {
  if (r.xenName === null) return [];
  const sring = `struct ${r.xenName}_sring`;
  const source = `abi ring ${r.name} (${r.abi})`;
  const out: Omit<ProbeItem, 'symbol'>[] = [{
    kind: 'ring', label: `sizeof(union ${r.xenName}_sring_entry)`, source,
    expected: BigInt(r.entrySize), expr: `sizeof(union ${r.xenName}_sring_entry)`, optional: false,
  }, {
    kind: 'ring', label: `offsetof(${sring}, ring)`, source: `abi ${SringHeader.cName} size`,
    expected: BigInt(SringHeader.size), expr: `__builtin_offsetof(${sring}, ring)`, optional: false,
  }];
  for (const f of SringHeader.fields) {
    out.push({
      kind: 'ring', label: `offsetof(${sring}, ${f.name})`, source: `abi ${SringHeader.cName}.${f.name}`,
      expected: BigInt(f.offset), expr: `__builtin_offsetof(${sring}, ${f.name})`, optional: false,
    });
    out.push({
      kind: 'ring', label: `sizeof(((${sring} *)0)->${f.name})`, source: `abi ${SringHeader.cName}.${f.name}`,
      expected: BigInt(fieldSize(f.type, f.count)), expr: `sizeof(((${sring} *)0)->${f.name})`, optional: false,
    });
  }
  for (const order of RING_ORDERS) {
    const bytes = 4096 << order;
    out.push({
      kind: 'ring', label: `__CONST_RING_SIZE(${r.xenName}, ${bytes})`, source: `${source} ringEntries(${bytes}, ${r.entrySize})`,
      expected: BigInt(ringEntries(bytes, r.entrySize)), expr: `__CONST_RING_SIZE(${r.xenName}, ${bytes})`, optional: false,
    });
  }
  return out;
}

/** An errno table: its length, and at each index the errno of the name there (see the prelude). */
function errnoTableItems(t: ErrnoTable): Omit<ProbeItem, 'symbol'>[] {
  const source = `abi ${t.cName}`;
  const out: Omit<ProbeItem, 'symbol'>[] = [{
    kind: 'table', label: `entries of ${t.cName}`, source, expected: BigInt(t.names.length),
    expr: `sizeof(${t.cName}) / sizeof(${t.cName}[0])`, optional: false,
  }];
  t.names.forEach((n, i) => out.push({
    kind: 'table', label: `${t.cName}[${i}] is ${n}`, source: `${source}[${i}] (errnum = Xen's ${n})`,
    expected: BigInt(t.errnos[i]!), expr: `${t.cName}[${i}].errnum`, optional: false,
  }));
  return out;
}

/** `#define NAME errno` for every name an errno table of `modules` uses (the xs_wire.h prelude). */
function errnoPrelude(modules: readonly AbiModule[]): string[] {
  const names = new Set<keyof typeof E>();
  for (const mod of modules) {
    for (const f of mod.fragments ?? []) if (f.kind === 'errno-table') for (const n of f.names) names.add(n);
  }
  return [...names].map((n) => `#define ${n} ${E[n]}`);
}

/** C source for `items` (one initialised 64-bit object per item, one item per line). */
export function buildConformanceProbe(
  mode: ProbeMode, items: readonly ProbeItem[], modules: readonly AbiModule[] = ABI_MODULES,
): Probe {
  const lines = [
    `/* pvkvm ABI conformance probe (${mode}); generated by abi/gen/conformance-probe.ts. */`,
    '#include <stddef.h>', // offsetof, for io/ring.h's __CONST_RING_SIZE
    '#include <stdint.h>',
    ...XEN_PROBE_HEADERS.map((h) => `#include <${h}>`),
    ...errnoPrelude(modules),
    ...XEN_PROBE_LATE_HEADERS.map((h) => `#include <${h}>`),
  ];
  const itemAtLine = new Map<number, ProbeItem>();
  for (const it of items) {
    lines.push(`const unsigned long long ${it.symbol} = ${it.expr};`);
    itemAtLine.set(lines.length, it);
  }
  return { mode, source: lines.join('\n') + '\n', items, itemAtLine };
}

/**
 * Values of the `pvkvm_probe_*` objects in gcc's assembly output: the data directives after each
 * label are concatenated little-endian (gcc -m32 writes a 64-bit object as two `.long`s).
 */
export function parseProbeAssembly(asm: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const width: Record<string, number> = { '.byte': 1, '.value': 2, '.short': 2, '.word': 2, '.long': 4, '.quad': 8 };
  let cur: string | null = null;
  let bytes: number[] = [];
  const flush = () => {
    if (cur !== null) {
      let v = 0n;
      for (let i = Math.min(bytes.length, 8) - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
      out.set(cur, v);
    }
    cur = null;
    bytes = [];
  };
  for (const raw of asm.split('\n')) {
    const line = raw.trim();
    const label = /^([A-Za-z_.$][\w.$]*):$/.exec(line);
    if (label) {
      flush();
      if (label[1]!.startsWith('pvkvm_probe_')) cur = label[1]!;
      continue;
    }
    if (cur === null) continue;
    const m = /^(\.\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const dir = m[1]!;
    if (dir === '.zero') {
      for (let i = 0; i < Number(m[2]); i++) bytes.push(0);
    } else if (dir in width) {
      const n = width[dir]!;
      for (const tok of m[2]!.split(',')) {
        let v = BigInt.asUintN(n * 8, BigInt(tok.trim()));
        for (let i = 0; i < n; i++) { bytes.push(Number(v & 0xffn)); v >>= 8n; }
      }
    } else if (dir === '.size' || dir === '.text' || dir === '.section' || dir === '.globl') {
      flush();
    }
  }
  flush();
  return out;
}
