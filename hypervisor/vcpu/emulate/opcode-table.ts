// opcode-table.ts: the emulated instructions indexed by opcode, and the lookup that picks one.
import type { InsnSpec, MandatoryPrefix, OpcodeMap } from './insn.ts';

const key = (map: OpcodeMap, op: number): number => map * 256 + op;

/** The most specific entries first: a whole ModRM byte, then reg + form, reg, form, prefix. */
function specificity(s: InsnSpec): number {
  return (s.modrm !== undefined ? 8 : 0) + (s.reg !== undefined ? 4 : 0) + (s.form !== undefined ? 2 : 0) +
    (s.prefix !== undefined ? 1 : 0);
}

export function hasModrm(s: InsnSpec): boolean {
  return s.hasModrm === true || s.reg !== undefined || s.form !== undefined || s.modrm !== undefined;
}

export class OpcodeTable {
  private readonly byOpcode = new Map<number, InsnSpec[]>();

  constructor(specs: readonly InsnSpec[]) {
    for (const s of specs) {
      const k = key(s.map, s.op);
      const list = this.byOpcode.get(k) ?? [];
      // The decoder must know whether a ModRM byte follows before it can pick an entry.
      if (list.length > 0 && hasModrm(list[0]!) !== hasModrm(s)) {
        throw new Error(`opcode table: ${s.name} and ${list[0]!.name} disagree on ModRM`);
      }
      list.push(s);
      list.sort((a, b) => specificity(b) - specificity(a));
      this.byOpcode.set(k, list);
    }
  }

  /** Candidates for an opcode (empty when nothing of it is emulated). */
  candidates(map: OpcodeMap, op: number): readonly InsnSpec[] {
    return this.byOpcode.get(key(map, op)) ?? [];
  }

  /** The entry matching the prefixes and ModRM byte (null when none is emulated). */
  pick(cands: readonly InsnSpec[], prefix: MandatoryPrefix, modrm: number | null): InsnSpec | null {
    for (const s of cands) {
      if (s.prefix !== undefined && s.prefix !== prefix) continue;
      if (modrm !== null) {
        if (s.modrm !== undefined && s.modrm !== modrm) continue;
        if (s.reg !== undefined && s.reg !== ((modrm >> 3) & 7)) continue;
        if (s.form === 'reg' && modrm >> 6 !== 3) continue;
        if (s.form === 'mem' && modrm >> 6 === 3) continue;
      }
      return s;
    }
    return null;
  }

  /** Every entry (the tests walk them). */
  all(): InsnSpec[] {
    return [...this.byOpcode.values()].flat();
  }
}
