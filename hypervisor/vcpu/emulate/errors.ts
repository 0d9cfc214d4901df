// errors.ts: the two ways an emulation stops early — a guest exception, or an instruction pvkvm does not emulate.

/** Exception vectors the emulator raises. */
export const VEC = {
  DE: 0, DB: 1, BP: 3, OF: 4, UD: 6, NM: 7, DF: 8, TS: 10, NP: 11, SS: 12, GP: 13, PF: 14, MF: 16, AC: 17, XM: 19,
} as const;

/**
 * The instruction faults as the CPU would: nothing it did is committed (except, with `keepFpu`,
 * the FPU state: a SIMD exception leaves its flags in MXCSR), and the exception is delivered to
 * the guest with RIP still at the instruction.
 */
export class GuestException extends Error {
  constructor(
    readonly vector: number, readonly errorCode: number | null = null, readonly cr2: bigint | null = null,
    readonly keepFpu = false,
  ) {
    super(`guest exception ${vector}${errorCode === null ? '' : ` (error code 0x${errorCode.toString(16)})`}`);
  }
}

export const gp = (code = 0): GuestException => new GuestException(VEC.GP, code);
export const ud = (): GuestException => new GuestException(VEC.UD);
export const nm = (): GuestException => new GuestException(VEC.NM);

/** pvkvm cannot complete this instruction (not in the emulated set, or a variant left out). */
export class NotEmulated extends Error {}
