// gates.ts: the CR0/CR4 checks that decide whether an x87 or SSE instruction may run at all.
import type { EmuContext } from '../context.ts';
import { CR4 } from '../mode.ts';
import { GuestException, NotEmulated, VEC, nm, ud } from '../errors.ts';

/** SSE: #UD without CR4.OSFXSR or with CR0.EM; then #NM with CR0.TS. */
export function requireSse(ctx: EmuContext): void {
  const { em, ts } = ctx.cr0Bits;
  if (em || (ctx.cr4() & CR4.OSFXSR) === 0n) throw ud();
  if (ts) throw nm();
}

/** x87: #NM with CR0.EM or CR0.TS. */
export function requireX87(ctx: EmuContext): void {
  const { em, ts } = ctx.cr0Bits;
  if (em || ts) throw nm();
}

const FSW_ES = 0x80;

/**
 * Waiting x87 instructions first deliver a pending unmasked x87 exception (FSW.ES): #MF with
 * CR0.NE. Without NE the CPU reports it on its FERR# pin instead, which pvkvm does not model.
 */
export function deliverPendingX87(ctx: EmuContext): void {
  if ((ctx.fpu.fsw & FSW_ES) === 0) return;
  if (!ctx.cr0Bits.ne) throw new NotEmulated('pending x87 exception with CR0.NE clear (FERR# reporting is not modelled)');
  throw new GuestException(VEC.MF);
}
