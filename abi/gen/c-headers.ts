// c-headers.ts: generates the domU-sdk C headers (domU-sdk/include/xen-abi/*.h and io/*.h) from
// ABI_MODULES, so guest C code, dom0 and the hypervisor share one definition of every constant and
// struct layout. Each struct gets explicit padding plus _Static_asserts on its size and every field
// offset, so a header that drifts from abi/ fails to compile (for -m64 and -m32 alike). Rings, the
// ring macros and errno tables come from c-fragments.ts.
import { mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { ABI_MODULES, type AbiModule } from '../index.ts';
import { fieldSize, scalarSize, type ConstGroup, type FieldDef, type Scalar, type StringGroup, type StructDef } from '../layout.ts';
import { emitFragment, type FragmentNeeds } from './c-fragments.ts';

const BANNER_PREFIX = '/* Generated from abi/';

const C_TYPE: Record<Scalar, string> = {
  u8: 'uint8_t', u16: 'uint16_t', u32: 'uint32_t', u64: 'uint64_t',
  i8: 'int8_t', i16: 'int16_t', i32: 'int32_t', i64: 'int64_t',
};

const C_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function ident(name: string, what: string): string {
  if (!C_IDENT.test(name)) throw new Error(`c-headers: ${what} '${name}' is not a C identifier`);
  return name;
}

/** A C integer literal: decimal below 0x100, hex from there or for bigints, with U/ULL suffixes. */
export function cLiteral(v: number | bigint): string {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new Error(`c-headers: ${v} is not an integer`);
  const b = BigInt(v);
  if (b < 0n) {
    if (b < -(2n ** 63n)) throw new Error(`c-headers: ${v} does not fit int64_t`);
    if (b === -(2n ** 63n)) return '(-0x7fffffffffffffffLL - 1)';
    return b >= -(2n ** 31n) + 1n ? `(${b})` : `(${b}LL)`;
  }
  if (b >= 2n ** 64n) throw new Error(`c-headers: ${v} does not fit uint64_t`);
  const text = typeof v === 'bigint' || b >= 0x100n ? `0x${b.toString(16)}` : b.toString();
  if (typeof v === 'bigint' || b > 0xffffffffn) return `${text}ULL`;
  if (b > 0x7fffffffn) return `${text}U`;
  return text;
}

function naturalAlign(t: Scalar | StructDef): number {
  return typeof t === 'string' ? scalarSize(t) : t.align;
}

/** Packed when a field is off its natural alignment or the size is not a multiple of it (e820entry). */
export function needsPacked(s: StructDef): boolean {
  return s.fields.some((f) => f.offset % naturalAlign(f.type) !== 0) || s.size % s.align !== 0;
}

function memberName(f: FieldDef): string {
  return ident(f.name.replace(/\./g, '_'), 'field');
}

function memberType(f: FieldDef): string {
  return typeof f.type === 'string' ? C_TYPE[f.type] : `struct ${ident(f.type.cName, 'struct')}`;
}

function emitStruct(s: StructDef, compat: boolean): string[] {
  const name = `struct ${ident(s.cName, 'struct')}`;
  const out: string[] = [];
  const xen = s.xenName === null ? 'no Xen equivalent'
    : `Xen: struct ${s.xenName}${compat ? ', i386 layout' : ''}`;
  out.push(`/* ${s.cName}: ${s.size} bytes (${xen}). */`);
  out.push(`${name} {`);
  const fields = [...s.fields].sort((a, b) => a.offset - b.offset);
  const members = new Set<string>();
  const member = (f: FieldDef, indent: string): string => {
    const m = memberName(f);
    if (members.has(m)) throw new Error(`c-headers: ${s.cName}: two fields map to member '${m}'`);
    members.add(m);
    return `${indent}${memberType(f)} ${m}${f.count !== 1 ? `[${f.count}]` : ''};`;
  };
  const unionOf = new Map<string, readonly string[]>();
  for (const g of s.unions) for (const n of g) unionOf.set(n, g);
  let at = 0;
  let pad = 0;
  for (const f of fields) {
    const group = unionOf.get(f.name);
    // A union is emitted whole at its first member; C11 anonymous unions keep the flat names.
    if (group !== undefined && group[0] !== f.name) continue;
    if (f.offset > at) out.push(`    uint8_t _pad${pad++}[${f.offset - at}];`);
    if (group === undefined) {
      out.push(member(f, '    '));
      at = f.offset + fieldSize(f);
      continue;
    }
    const parts = group.map((n) => s.byName[n]!);
    out.push('    union {', ...parts.map((p) => member(p, '        ')), '    };');
    at = f.offset + Math.max(...parts.map(fieldSize));
  }
  if (s.size > at) out.push(`    uint8_t _pad${pad++}[${s.size - at}];`);
  out.push(needsPacked(s) ? '} __attribute__((packed));' : '};');
  out.push(`_Static_assert(sizeof(${name}) == ${s.size}, "${s.cName}: size");`);
  for (const f of fields) {
    const m = memberName(f);
    out.push(`_Static_assert(__builtin_offsetof(${name}, ${m}) == ${f.offset}, "${s.cName}: offset of ${m}");`);
  }
  return out;
}

function comment(text: string): string {
  return `/* ${text.replace(/\*\//g, '* /')} */`;
}

function emitConstants(g: ConstGroup): string[] {
  const entries = Object.entries(g.values) as [string, number | bigint][];
  if (entries.length === 0) return [];
  const names = entries.map(([k]) => ident(g.cPrefix + k, 'constant'));
  const width = Math.max(...names.map((n) => n.length));
  const out = [comment(g.title)];
  if (g.cEnum !== undefined) {
    // An enum, as Xen declares these: C code may name the type (enum xenbus_state).
    out.push(`enum ${ident(g.cEnum, 'enum')} {`);
    entries.forEach(([, v], i) => {
      if (BigInt(v) < -(2n ** 31n) || BigInt(v) >= 2n ** 31n) throw new Error(`c-headers: ${names[i]} does not fit an enum`);
      out.push(`    ${names[i]!.padEnd(width)} = ${cLiteral(v)},`);
    });
    out.push('};');
    return out;
  }
  entries.forEach(([, v], i) => out.push(`#define ${names[i]!.padEnd(width)} ${cLiteral(v)}`));
  return out;
}

function emitStrings(g: StringGroup): string[] {
  const entries = Object.entries(g.values) as [string, string][];
  if (entries.length === 0) return [];
  const names = entries.map(([k]) => ident(g.cPrefix + k, 'string constant'));
  const width = Math.max(...names.map((n) => n.length));
  // defineStrings admits only printable ASCII without quote or backslash: no escaping needed.
  return [comment(g.title), ...entries.map(([, v], i) => `#define ${names[i]!.padEnd(width)} "${v}"`)];
}

function guardOf(header: string): string {
  return `PVKVM_XEN_ABI_${header.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** The #include spelling of generated header `to` from generated header `from`. */
function includePath(from: string, to: string): string {
  return posix.relative(posix.dirname(from), to);
}

/** Header file names may sit one folder deep (io/blkif.h). */
const HEADER_NAME = /^(?:[\w-]+\/)?[\w.-]+\.h$/;

/** Every generated header: file name (relative to domU-sdk/include/xen-abi/) → contents. */
export function generateCHeaders(modules: readonly AbiModule[] = ABI_MODULES): Map<string, string> {
  // Each struct lives in the header of the first module that lists it; a nested struct no module
  // lists is emitted in the first header that needs it.
  const home = new Map<StructDef, string>();
  for (const mod of modules) {
    for (const s of [...mod.structs, ...(mod.compatStructs ?? [])]) if (!home.has(s)) home.set(s, mod.header);
  }
  // Where each constant name and the ring macros are defined, for fragments that use them.
  const constHome = new Map<string, string>();
  let ringMacrosHome: string | null = null;
  for (const mod of modules) {
    for (const g of mod.constants) for (const k of Object.keys(g.values)) constHome.set(g.cPrefix + k, mod.header);
    if (mod.fragments?.some((f) => f.kind === 'ring-macros')) ringMacrosHome = mod.header;
  }
  const cNames = new Map<string, StructDef>();
  const files = new Map<string, string>();
  for (const mod of modules) {
    if (!HEADER_NAME.test(mod.header)) throw new Error(`c-headers: bad header name '${mod.header}'`);
    if (files.has(mod.header)) throw new Error(`c-headers: header '${mod.header}' listed twice`);
    const includes = new Set<string>();
    const body: string[] = [];
    const emitted = new Set<StructDef>();
    const emit = (s: StructDef, compat: boolean, chain: StructDef[]) => {
      if (emitted.has(s)) return;
      if (chain.includes(s)) throw new Error(`c-headers: ${s.cName} contains itself`);
      const h = home.get(s);
      if (h !== undefined && h !== mod.header) { includes.add(h); return; }
      if (h === undefined) home.set(s, mod.header);
      const other = cNames.get(s.cName);
      if (other !== undefined && other !== s) throw new Error(`c-headers: two different structs named ${s.cName}`);
      cNames.set(s.cName, s);
      for (const f of s.fields) if (typeof f.type !== 'string') emit(f.type, compat, [...chain, s]);
      emitted.add(s);
      body.push('', ...emitStruct(s, compat));
    };
    for (const g of mod.constants) body.push('', ...emitConstants(g));
    for (const g of mod.strings ?? []) body.push('', ...emitStrings(g));
    for (const s of mod.structs) emit(s, false, []);
    for (const s of mod.compatStructs ?? []) emit(s, true, []);
    for (const f of mod.fragments ?? []) {
      const needs: FragmentNeeds = { ringMacros: false, structs: [], constants: [] };
      const lines = emitFragment(f, needs);
      for (const s of needs.structs) emit(s, false, []);
      if (needs.ringMacros && ringMacrosHome !== mod.header) {
        if (ringMacrosHome === null) throw new Error(`c-headers: ${mod.header} needs the ring macros, which no module has`);
        includes.add(ringMacrosHome);
      }
      for (const c of needs.constants) {
        const h = constHome.get(c);
        if (h === undefined) throw new Error(`c-headers: ${mod.header} uses ${c}, which no module defines`);
        if (h !== mod.header) includes.add(h);
      }
      body.push('', ...lines);
    }
    const guard = guardOf(mod.header);
    const lines = [
      `${BANNER_PREFIX}index.ts (ABI_MODULES "${mod.header}") by abi/gen/c-headers.ts; do not edit. */`,
      `#ifndef ${guard}`,
      `#define ${guard}`,
      '',
      '#include <stdint.h>',
      ...[...includes].sort().map((h) => `#include "${includePath(mod.header, h)}"`),
      ...body,
      '',
      `#endif /* ${guard} */`,
    ];
    files.set(mod.header, lines.join('\n') + '\n');
  }
  return files;
}

/**
 * Write the headers into `outDir`, touching only files whose contents changed, and delete generated
 * headers (recognised by the banner) that no module produces any more.
 */
export function writeCHeaders(outDir: string): void {
  const files = generateCHeaders();
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of files) {
    const path = join(outDir, name);
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  for (const name of listHeaders(outDir)) {
    if (files.has(name)) continue;
    const path = join(outDir, name);
    if (readFileSync(path, 'utf8').startsWith(BANNER_PREFIX)) unlinkSync(path);
  }
}

/** `.h` files in `dir` and its immediate subfolders, as `name.h` / `sub/name.h`. */
export function listHeaders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.h')) out.push(e.name);
    if (!e.isDirectory()) continue;
    for (const f of readdirSync(join(dir, e.name), { withFileTypes: true })) {
      if (f.isFile() && f.name.endsWith('.h')) out.push(`${e.name}/${f.name}`);
    }
  }
  return out.sort();
}
