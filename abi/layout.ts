// layout.ts: a tiny struct-layout DSL — the only place that knows how ABI structs map to bytes.
//
// Every guest-visible struct is declared once with explicit offsets (as the Xen headers fix them).
// The same declaration drives: DataView accessors in TypeScript, the generated C headers for
// domU-sdk, and the conformance probe that checks offsets against Xen's own headers.

export type Scalar = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64';

const SCALAR_SIZE: Record<Scalar, number> = {
  u8: 1, u16: 2, u32: 4, u64: 8, i8: 1, i16: 2, i32: 4, i64: 8,
};

export interface FieldDef {
  /** Field name as in the Xen header (dots name a nested member, e.g. `arch.cr2`). */
  readonly name: string;
  readonly offset: number;
  /** A scalar, or a nested struct. */
  readonly type: Scalar | StructDef;
  /** Array length; 1 for a plain field. */
  readonly count: number;
}

export interface StructDef<N extends string = string> {
  /** C type name used in generated headers (e.g. `hvm_start_info`). */
  readonly cName: string;
  /** Name of the same struct in Xen's public headers for the conformance probe, or null. */
  readonly xenName: string | null;
  readonly size: number;
  /** Alignment used for the generated C type (largest scalar). */
  readonly align: number;
  readonly fields: readonly FieldDef[];
  readonly byName: Readonly<Record<N, FieldDef>>;
  /**
   * Fields that only Xen headers newer than the release pvkvm is checked against (4.17) declare,
   * appended at the end (e.g. xencons_interface.connection). The probe checks them only when the
   * headers have them, and accepts the older, shorter size too.
   */
  readonly notInXen: readonly string[];
  /**
   * Fields that are unnamed padding in Xen's header, named here because C code sets them (e.g.
   * blkif_request_segment's tail, zeroed by blkfront). Generated C has them; the probe skips them.
   */
  readonly padding: readonly string[];
  /**
   * Groups of fields that share storage (a C union, e.g. gnttab_copy's `source.u`), by name.
   * Typed as plain strings so a StructDef still narrows to a subset of its field names.
   */
  readonly unions: readonly (readonly string[])[];
}

type FieldSpec = readonly [name: string, offset: number, type: Scalar | StructDef, count?: number];
type NamesOf<T extends readonly FieldSpec[]> = T[number][0];

export function scalarSize(t: Scalar): number {
  return SCALAR_SIZE[t];
}

export function fieldSize(f: FieldDef): number {
  const one = typeof f.type === 'string' ? SCALAR_SIZE[f.type] : f.type.size;
  return one * f.count;
}

/**
 * Declare a struct. Offsets are checked for overlap and for fitting inside `size`, so a typo in a
 * layout fails at module load, not as silent corruption of guest memory. Fields may share storage
 * only when `unions` says so: each group is one C union, its members all at the group's offset.
 */
export function defineStruct<const T extends readonly FieldSpec[]>(
  cName: string,
  size: number,
  specs: T,
  opts: {
    xenName?: string | null; notInXen?: readonly NamesOf<T>[]; padding?: readonly NamesOf<T>[];
    unions?: readonly (readonly NamesOf<T>[])[];
  } = {},
): StructDef<NamesOf<T>> {
  const fields: FieldDef[] = specs.map(([name, offset, type, count]) => ({
    name, offset, type, count: count ?? 1,
  }));
  const byName = Object.fromEntries(fields.map((f) => [f.name, f])) as Record<NamesOf<T>, FieldDef>;
  const unions = opts.unions ?? [];
  const unionOf = unionGroups(cName, byName, unions);
  let align = 1;
  const sorted = [...fields].sort((a, b) => a.offset - b.offset);
  let end = 0;
  let group: readonly string[] | undefined;
  for (const f of sorted) {
    const g = unionOf.get(f.name);
    // A later member of the union just checked starts where the union does, not after it.
    if (g === undefined || g !== group) {
      if (f.offset < end) throw new Error(`abi: ${cName}.${f.name} overlaps the previous field`);
      group = g;
    }
    end = Math.max(end, f.offset + fieldSize(f));
    const a = typeof f.type === 'string' ? SCALAR_SIZE[f.type] : f.type.align;
    if (f.offset % a !== 0 && a <= 4) throw new Error(`abi: ${cName}.${f.name} is misaligned`);
    align = Math.max(align, a);
  }
  if (end > size) throw new Error(`abi: ${cName} fields end at ${end}, past size ${size}`);
  const notInXen = opts.notInXen ?? [];
  const padding = opts.padding ?? [];
  for (const n of [...notInXen, ...padding]) {
    if (!(n in byName)) throw new Error(`abi: ${cName}.${n} in notInXen/padding is not a field`);
  }
  return {
    cName, xenName: opts.xenName === undefined ? cName : opts.xenName, size, align, fields, byName, notInXen, padding, unions,
  };
}

/** Check the union groups (known, distinct fields, two or more, one offset); field name → its group. */
function unionGroups(cName: string, byName: Record<string, FieldDef>, unions: readonly (readonly string[])[]): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const g of unions) {
    if (g.length < 2) throw new Error(`abi: ${cName}: a union needs two or more fields`);
    for (const n of g) {
      const f = byName[n];
      if (f === undefined) throw new Error(`abi: ${cName}.${n} in a union is not a field`);
      if (out.has(n)) throw new Error(`abi: ${cName}.${n} is in two unions`);
      if (f.offset !== byName[g[0]!]!.offset) throw new Error(`abi: ${cName}.${n} is not at its union's offset`);
      out.set(n, g);
    }
  }
  return out;
}

/** Byte offset of a (scalar) field, for code that does its own atomics on shared memory. */
export function offsetOf<N extends string>(s: StructDef<N>, name: N): number {
  return s.byName[name].offset;
}

function scalarOf(f: FieldDef): Scalar {
  if (typeof f.type !== 'string') throw new Error(`abi: ${f.name} is a struct, not a scalar`);
  return f.type;
}

/** Read one scalar field of the struct at `base` in `view`; 64-bit fields come back as bigint. */
export function readField<N extends string>(
  view: DataView, base: number, s: StructDef<N>, name: N, index = 0,
): number | bigint {
  const f = s.byName[name];
  const t = scalarOf(f);
  const at = base + f.offset + index * SCALAR_SIZE[t];
  switch (t) {
    case 'u8': return view.getUint8(at);
    case 'i8': return view.getInt8(at);
    case 'u16': return view.getUint16(at, true);
    case 'i16': return view.getInt16(at, true);
    case 'u32': return view.getUint32(at, true);
    case 'i32': return view.getInt32(at, true);
    case 'u64': return view.getBigUint64(at, true);
    case 'i64': return view.getBigInt64(at, true);
  }
}

/** Read a field that is at most 32 bits (or a 64-bit one known to fit a double) as a number. */
export function readNum<N extends string>(
  view: DataView, base: number, s: StructDef<N>, name: N, index = 0,
): number {
  return Number(readField(view, base, s, name, index));
}

/** Write one scalar field; numbers and bigints are both accepted and truncated to the field width. */
export function writeField<N extends string>(
  view: DataView, base: number, s: StructDef<N>, name: N, value: number | bigint, index = 0,
): void {
  const f = s.byName[name];
  const t = scalarOf(f);
  const at = base + f.offset + index * SCALAR_SIZE[t];
  switch (t) {
    case 'u8': case 'i8': view.setUint8(at, Number(BigInt.asUintN(8, BigInt(value)))); return;
    case 'u16': case 'i16': view.setUint16(at, Number(BigInt.asUintN(16, BigInt(value))), true); return;
    case 'u32': case 'i32': view.setUint32(at, Number(BigInt.asUintN(32, BigInt(value))), true); return;
    case 'u64': case 'i64': view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true); return;
  }
}

/** A named group of integer constants; `cPrefix + key` is the C macro name. */
export interface ConstGroup<K extends string = string> {
  readonly title: string;
  readonly cPrefix: string;
  /** True when the group's macros (but those in `notInXen`) exist, same names, in Xen's headers. */
  readonly inXenHeaders: boolean;
  /**
   * Keys of an `inXenHeaders` group whose macros the Xen release pvkvm is checked against (4.17)
   * does not define; the conformance probe only checks them if the headers happen to have them.
   */
  readonly notInXen?: readonly K[];
  readonly values: Readonly<Record<K, number | bigint>>;
  /** Emit the group as this C enum (as Xen does, e.g. `xenbus_state`) instead of #defines. */
  readonly cEnum?: string;
}

export function defineConstants<const V extends Record<string, number | bigint>>(
  title: string, cPrefix: string, values: V,
  opts: { inXenHeaders?: boolean; notInXen?: readonly Extract<keyof V, string>[]; cEnum?: string } = {},
): ConstGroup<Extract<keyof V, string>> & { readonly values: V } {
  for (const k of opts.notInXen ?? []) {
    if (!(k in values)) throw new Error(`abi: ${cPrefix}${k} in notInXen is not a constant of the group`);
  }
  const group = { title, cPrefix, inXenHeaders: opts.inXenHeaders ?? true, notInXen: opts.notInXen ?? [], values };
  return opts.cEnum === undefined ? group : { ...group, cEnum: opts.cEnum };
}

/** A named group of string constants (C string-literal macros), e.g. xenstore write modes. */
export interface StringGroup<K extends string = string> {
  readonly title: string;
  readonly cPrefix: string;
  readonly inXenHeaders: boolean;
  readonly notInXen?: readonly K[];
  readonly values: Readonly<Record<K, string>>;
}

/** Printable ASCII without quote or backslash: the text goes into C literals unescaped. */
const PLAIN_STRING = /^[\x20-\x7e]*$/;

export function defineStrings<const V extends Record<string, string>>(
  title: string, cPrefix: string, values: V,
  opts: { inXenHeaders?: boolean; notInXen?: readonly Extract<keyof V, string>[] } = {},
): StringGroup<Extract<keyof V, string>> & { readonly values: V } {
  for (const [k, v] of Object.entries(values)) {
    if (!PLAIN_STRING.test(v) || v.includes('"') || v.includes('\\')) {
      throw new Error(`abi: ${cPrefix}${k} is not a plain ASCII string`);
    }
  }
  for (const k of opts.notInXen ?? []) {
    if (!(k in values)) throw new Error(`abi: ${cPrefix}${k} in notInXen is not a string of the group`);
  }
  return { title, cPrefix, inXenHeaders: opts.inXenHeaders ?? true, notInXen: opts.notInXen ?? [], values };
}
