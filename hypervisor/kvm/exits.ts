// exits.ts: the typed form of a KVM_RUN exit, decoded from the kvm_run exit union.
import { KVM_EXIT, KVM_INTERNAL_ERROR, KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES } from './ioctls.ts';
import {
  RUN, EXIT_IO, EXIT_MMIO, EXIT_MSR, EXIT_INTERNAL, EXIT_EMULATION_FAILURE, EMULATION_FAILURE_MAX_INSN,
  EXIT_FAIL_ENTRY, EXIT_SYSTEM_EVENT, EXIT_MEMORY_FAULT, UNKNOWN_GPA,
} from './run-layout.ts';

/** A decoded vCPU exit (kvm-ioctls style discriminated union). */
export type VcpuExit =
  | { kind: 'io'; out: boolean; size: number; port: number; count: number; dataOffset: number }
  | { kind: 'mmio'; write: boolean; gpa: bigint; len: number }
  | { kind: 'hlt' }
  | { kind: 'shutdown' }
  | { kind: 'intr' }
  | { kind: 'rdmsr'; index: number }
  | { kind: 'wrmsr'; index: number; data: bigint }
  /**
   * `insn`: for an emulation failure that carries them, the bytes KVM fetched at RIP (up to 15:
   * the instruction and whatever follows it, not its decoded length); otherwise null.
   */
  | { kind: 'internal-error'; suberror: number; data: bigint[]; insn: Uint8Array | null }
  | { kind: 'fail-entry'; reason: bigint }
  | { kind: 'system-event'; type: number }
  /** KVM_RUN failed with EFAULT: guest memory KVM could not map; `gpa` null when KVM did not say. */
  | { kind: 'memory-fault'; gpa: bigint | null; size: bigint }
  | { kind: 'other'; reason: number };

/** Decode the exit `run` (the kvm_run mapping) currently holds. */
export function decodeExit(run: Uint8Array, v: DataView): VcpuExit {
  const reason = v.getUint32(RUN.exit_reason, true);
  const x = RUN.exit;
  switch (reason) {
    case KVM_EXIT.IO:
      return {
        kind: 'io', out: v.getUint8(x + EXIT_IO.direction) === 1, size: v.getUint8(x + EXIT_IO.size),
        port: v.getUint16(x + EXIT_IO.port, true), count: v.getUint32(x + EXIT_IO.count, true),
        dataOffset: Number(v.getBigUint64(x + EXIT_IO.data_offset, true)),
      };
    case KVM_EXIT.MEMORY_FAULT: {
      const gpa = v.getBigUint64(x + EXIT_MEMORY_FAULT.gpa, true);
      return { kind: 'memory-fault', gpa: gpa === UNKNOWN_GPA ? null : gpa, size: v.getBigUint64(x + EXIT_MEMORY_FAULT.size, true) };
    }
    case KVM_EXIT.MMIO:
      return {
        kind: 'mmio', gpa: v.getBigUint64(x + EXIT_MMIO.phys_addr, true),
        len: v.getUint32(x + EXIT_MMIO.len, true), write: v.getUint8(x + EXIT_MMIO.is_write) !== 0,
      };
    case KVM_EXIT.HLT: return { kind: 'hlt' };
    case KVM_EXIT.SHUTDOWN: return { kind: 'shutdown' };
    case KVM_EXIT.INTR: return { kind: 'intr' };
    case KVM_EXIT.X86_RDMSR: return { kind: 'rdmsr', index: v.getUint32(x + EXIT_MSR.index, true) };
    case KVM_EXIT.X86_WRMSR:
      return { kind: 'wrmsr', index: v.getUint32(x + EXIT_MSR.index, true), data: v.getBigUint64(x + EXIT_MSR.data, true) };
    case KVM_EXIT.INTERNAL_ERROR: {
      const suberror = v.getUint32(x + EXIT_INTERNAL.suberror, true);
      const ndata = v.getUint32(x + EXIT_INTERNAL.ndata, true);
      const n = Math.min(ndata, 16);
      const data: bigint[] = [];
      for (let i = 0; i < n; i++) data.push(v.getBigUint64(x + EXIT_INTERNAL.data + i * 8, true));
      return { kind: 'internal-error', suberror, data, insn: emulationBytes(run, v, suberror, ndata) };
    }
    case KVM_EXIT.FAIL_ENTRY:
      return { kind: 'fail-entry', reason: v.getBigUint64(x + EXIT_FAIL_ENTRY.reason, true) };
    case KVM_EXIT.SYSTEM_EVENT:
      return { kind: 'system-event', type: v.getUint32(x + EXIT_SYSTEM_EVENT.type, true) };
    default:
      return { kind: 'other', reason };
  }
}

/** The instruction bytes of an emulation failure, when KVM says they are there (a private copy). */
function emulationBytes(run: Uint8Array, v: DataView, suberror: number, ndata: number): Uint8Array | null {
  const x = RUN.exit;
  // flags and the 16 bytes of insn_size + insn_bytes are three of the ndata u64s.
  if (suberror !== KVM_INTERNAL_ERROR.EMULATION || ndata < 3) return null;
  const flags = v.getBigUint64(x + EXIT_EMULATION_FAILURE.flags, true);
  if ((flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) === 0n) return null;
  const size = Math.min(v.getUint8(x + EXIT_EMULATION_FAILURE.insn_size), EMULATION_FAILURE_MAX_INSN);
  const at = x + EXIT_EMULATION_FAILURE.insn_bytes;
  return run.slice(at, at + size);
}
