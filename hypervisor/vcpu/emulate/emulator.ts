// emulator.ts: complete one instruction KVM's emulator gave up on — decode, execute, commit — or say
// precisely why not.
import type { PhysMemory } from '../../memory/phys-memory.ts';
import type { EmuCpu } from './cpu-port.ts';
import { EmuContext } from './context.ts';
import { decode, MAX_INSN_LENGTH } from './decoder.ts';
import { GuestException, NotEmulated } from './errors.ts';
import { describeMode, RFLAGS } from './mode.ts';
import type { OpcodeTable } from './opcode-table.ts';
import { EMULATED } from './table.ts';

export type EmuOutcome =
  | { readonly kind: 'done'; readonly name: string }
  /** The instruction faults: deliver this exception (RIP stays at the instruction). */
  | { readonly kind: 'exception'; readonly vector: number; readonly errorCode: number | null; readonly cr2: bigint | null }
  /** pvkvm cannot complete it; `detail` is one line naming the instruction's bytes, the mode and CPL. */
  | { readonly kind: 'unsupported'; readonly detail: string };

const hex = (b: Iterable<number>): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

/**
 * Emulate the instruction at the vCPU's RIP. `known` holds bytes KVM already fetched there (may be
 * empty); the rest is fetched from guest memory as the CPU would, with its checks.
 */
export function emulateInstruction(
  cpu: EmuCpu, phys: PhysMemory, known: Uint8Array | null, table: OpcodeTable = EMULATED,
): EmuOutcome {
  let ctx: EmuContext | null = null;
  const seen: number[] = [];
  let name: string | null = null;
  let decoded: Uint8Array | null = null;
  try {
    ctx = new EmuContext(cpu, phys);
    const c = ctx;
    const fetch = (i: number): number => {
      if (i < seen.length) return seen[i]!;
      const b = known !== null && i < known.length ? known[i]! : c.codeByte(i);
      seen[i] = b;
      return b;
    };
    const insn = decode(fetch, c.mode, table);
    name = insn.spec.name;
    decoded = insn.bytes;
    c.nextRip = c.wrapIp(c.rip + BigInt(insn.length));
    c.regs.set('rip', c.nextRip);
    insn.spec.exec(c, insn);
    // Completing an instruction clears RF, unless the instruction loaded RFLAGS itself (IRET).
    const flags = c.regs.get('rflags');
    if (!c.rflagsLoaded && (flags & RFLAGS.RF) !== 0n) c.regs.set('rflags', flags & ~RFLAGS.RF);
    c.commit();
    return { kind: 'done', name };
  } catch (e) {
    if (e instanceof GuestException) {
      if (e.keepFpu) ctx?.fpu.commit();
      return { kind: 'exception', vector: e.vector, errorCode: e.errorCode, cr2: e.cr2 };
    }
    const where = ctx === null ? '' : ` in ${describeMode(ctx.mode)}`;
    // The instruction when it decoded; otherwise every byte known at RIP (up to 15), which may run
    // into the next instruction.
    const atRip = known !== null && known.length >= seen.length ? [...known] : seen;
    const what = decoded !== null ? `${name} (${hex(decoded)})` : `the instruction at rip (bytes ${hex(atRip.slice(0, MAX_INSN_LENGTH))})`;
    // Anything else is a bug of ours; it still ends only this domain, with the same one line.
    const why = e instanceof NotEmulated ? e.message : `emulator error: ${e instanceof Error ? e.message : String(e)}`;
    return { kind: 'unsupported', detail: `cannot emulate ${what}${where}: ${why}` };
  }
}
