// abi-probe.ts: compiles the ABI conformance probe against Xen's headers and reports mismatches —
// shared by the conformance tests of abi/ and abi/io/.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConformanceProbe, parseProbeAssembly, probeCflags, type ProbeItem, type ProbeMode } from '../../abi/gen/conformance-probe.ts';

export const XEN_H = '/usr/include/xen/xen.h';

export interface ProbeResult {
  values: Map<ProbeItem, bigint>;
  /** Items the headers could not evaluate (undefined macro, no such member…), with gcc's error. */
  errors: Map<ProbeItem, string>;
}

export function gcc(args: string[]): { status: number | null; stderr: string; error?: Error } {
  const r = spawnSync('gcc', args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { status: r.status, stderr: r.stderr ?? '', error: r.error };
}

/**
 * Compile the probe for `mode`; items whose line gcc rejects are set aside with the error and the
 * rest recompiled, so one missing name does not hide every other check.
 */
export function runProbe(dir: string, mode: ProbeMode, items: ProbeItem[], extra: string[] = []): ProbeResult {
  const errors = new Map<ProbeItem, string>();
  for (let round = 0; round < 10; round++) {
    const probe = buildConformanceProbe(mode, items);
    const src = join(dir, `probe-${mode}${extra.length ? '-x' : ''}.c`);
    const out = src.replace(/\.c$/, '.s');
    writeFileSync(src, probe.source);
    const r = gcc([...probeCflags(mode), ...extra, '-S', '-o', out, src]);
    if (r.error) throw r.error;
    if (r.status === 0) {
      const asm = parseProbeAssembly(readFileSync(out, 'utf8'));
      const values = new Map<ProbeItem, bigint>();
      for (const it of items) {
        const v = asm.get(it.symbol);
        if (v === undefined) throw new Error(`probe: no value for ${it.symbol} (${it.label}) in the assembly`);
        values.set(it, v);
      }
      return { values, errors };
    }
    const bad = new Set<ProbeItem>();
    const re = new RegExp(`^${src.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):\\d+: error: (.*)$`, 'gm');
    for (const m of r.stderr.matchAll(re)) {
      const it = probe.itemAtLine.get(Number(m[1]));
      if (!it) throw new Error(`probe (${mode}) failed outside the item lines:\n${r.stderr}`);
      if (!bad.has(it)) errors.set(it, m[2]!);
      bad.add(it);
    }
    if (bad.size === 0) throw new Error(`probe (${mode}) failed:\n${r.stderr}`);
    items = items.filter((it) => !bad.has(it));
  }
  throw new Error(`probe (${mode}): too many compile rounds`);
}

function hex(v: bigint): string {
  return `${v} (0x${v.toString(16)})`;
}

/** The part of a tap Test that `check` reports through. */
export interface Reporter { fail(msg: string): unknown; pass(msg: string): unknown }

export function check(t: Reporter, mode: ProbeMode, res: ProbeResult): number {
  let matched = 0;
  let absentOptional = 0;
  for (const [it, err] of res.errors) {
    if (it.optional) { absentOptional++; continue; }
    t.fail(`[${mode}] ${it.label}: abi value ${hex(it.expected)} (${it.source}), ` +
      `but the Xen headers do not define it: ${err}`);
  }
  for (const [it, v] of res.values) {
    if (v === it.expected || v === it.alsoMatches) { matched++; continue; }
    t.fail(`[${mode}] ${it.label}: abi value ${hex(it.expected)} (${it.source}) != Xen header value ${hex(v)}`);
  }
  t.pass(`[${mode}] ${matched} items match Xen's headers` +
    (absentOptional ? `; ${absentOptional} notInXen items absent, as declared` : ''));
  return matched;
}

/** Why `gcc -m<bits>` cannot compile here, or null when it can. */
export function gccTargetProblem(mode: ProbeMode): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-abi-trial-'));
  try {
    writeFileSync(join(dir, 't.c'), 'int x;\n');
    const r = gcc([probeCflags(mode)[0]!, '-ffreestanding', '-S', '-o', join(dir, 't.s'), join(dir, 't.c')]);
    return r.status === 0 ? null : `gcc ${probeCflags(mode)[0]} unavailable: ${r.stderr.split('\n')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
