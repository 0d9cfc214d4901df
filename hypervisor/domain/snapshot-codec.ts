// snapshot-codec.ts: the hypervisor's saved state of one domain (the HVSTATE section of a save
// file, docs/save-format.md) — its shape, its JSON encoding, and the checks a restore runs on it.
//
// The section is opaque to dom0 and comes back from a file: every field is hostile input, so the
// decoder checks types, ranges and exact binary sizes and fails with one line (SnapshotError).
import { HVM_NR_PARAMS } from '../../abi/hvm.ts';
import { EVTCHNSTAT, NR_VIRQS } from '../../abi/event-channel.ts';
import { GNTTAB_LIMITS } from '../../abi/grant-table.ts';
import { MAX_VCPUS } from '../state/shared-state.ts';
import type { MemmapEntry } from '../boot/pvh-layout.ts';

/** 2: the grant table's frames are carried (1, without them, is still read). */
export const SNAPSHOT_VERSION = 2;
/** Upper bounds on what a restore accepts (far above what a capture produces). */
export const SNAPSHOT_LIMITS = { bytes: 4 * 1024 * 1024, memmap: 128, extra: 64, ports: 4096, msrs: 32, xsave: 64 * 1024 } as const;
/** Sizes of the KVM structs carried as bytes (x86-64 uAPI). */
export const KVM_BLOB = { regs: 144, sregs: 312, lapic: 1024, events: 64, irqchip: 520 } as const;
/**
 * The MSRs carried per vCPU: those a 64-bit guest kernel programs and KVM keeps (SYSENTER, PAT,
 * the SYSCALL set, GS swap, TSC_AUX, MISC_ENABLE), and the TSC, so the guest's TSC (and pvclock
 * read through it) goes on from where it stopped. EFER and APIC base travel in sregs.
 */
export const SAVED_MSRS: readonly number[] = [
  0x174, 0x175, 0x176, 0x1a0, 0x277, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000102, 0xc0000103, 0x10,
];

export interface VcpuSnapshot {
  regs: Uint8Array; sregs: Uint8Array; xsave: Uint8Array; lapic: Uint8Array; events: Uint8Array;
  msrs: [number, bigint][];
  /** VCPU_FLAG.INITIALISED | UP as they were. */
  flags: number;
  /** Memfd offset of a registered vcpu_info (-1: in shared_info). */
  vcpuInfoOffset: number;
  upcallVector: number;
  /** Single-shot deadline, periodic period (system-time ns; 0 = off). */
  timerDeadline: bigint; timerPeriod: bigint;
}

export interface PortSnapshot { port: number; state: number; vcpu: number; remoteDom: number; remotePort: number }

/**
 * One grant frame with storage: memfd offsets of its home page, of where its entries are now (the
 * home page, or the guest page at `gfn` it was placed on) and of its active-entry page.
 */
export interface GrantFrameSnapshot { home: number; current: number; active: number; gfn: number }
export interface GrantSnapshot { nrFrames: number; frames: GrantFrameSnapshot[] }

export interface DomainSnapshot {
  ramBytes: number; memBytes: number; nrVcpus: number;
  memmap: MemmapEntry[];
  params: bigint[];
  sharedInfoGpa: number; sharedInfoOffset: number; hypercallPageGpa: number;
  wordSize: number; vmAssist: number; callbackGsi: number;
  /** Pool pages in use, and the extra guest-physical slots onto them (shared_info placement). */
  poolUsed: number;
  extra: { gpa: number; size: number; fileOffset: number }[];
  ports: PortSnapshot[];
  /** The guest's own grant table (v1): its size and frames (pins are not carried). */
  grants: GrantSnapshot;
  irqchips: Uint8Array[];
  vcpus: VcpuSnapshot[];
}

export class SnapshotError extends Error {}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

export function encodeSnapshot(s: DomainSnapshot): Uint8Array {
  const json = {
    version: SNAPSHOT_VERSION, ramBytes: s.ramBytes, memBytes: s.memBytes, nrVcpus: s.nrVcpus, memmap: s.memmap,
    params: s.params.map(hex), sharedInfoGpa: s.sharedInfoGpa, sharedInfoOffset: s.sharedInfoOffset,
    hypercallPageGpa: s.hypercallPageGpa, wordSize: s.wordSize, vmAssist: s.vmAssist, callbackGsi: s.callbackGsi,
    poolUsed: s.poolUsed, extra: s.extra, ports: s.ports, grants: s.grants, irqchips: s.irqchips.map(b64),
    vcpus: s.vcpus.map((v) => ({
      regs: b64(v.regs), sregs: b64(v.sregs), xsave: b64(v.xsave), lapic: b64(v.lapic), events: b64(v.events),
      msrs: v.msrs.map(([i, val]) => [i, hex(val)]), flags: v.flags, vcpuInfoOffset: v.vcpuInfoOffset,
      upcallVector: v.upcallVector, timerDeadline: hex(v.timerDeadline), timerPeriod: hex(v.timerPeriod),
    })),
  };
  return new TextEncoder().encode(JSON.stringify(json));
}

// ---- decoding: every accessor names the field it refuses ----

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SnapshotError(`${what} is not an object`);
  return v as Obj;
}
function arr(v: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new SnapshotError(`${what} is not a list`);
  if (v.length > max) throw new SnapshotError(`${what} has ${v.length} entries (at most ${max})`);
  return v;
}
function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new SnapshotError(`${what} is out of range`);
  return v;
}
function u64(v: unknown, what: string): bigint {
  if (typeof v !== 'string' || !/^0x[0-9a-f]{1,16}$/.test(v)) throw new SnapshotError(`${what} is not a 64-bit hex value`);
  return BigInt(v);
}
function bytes(v: unknown, what: string, size: number | [number, number]): Uint8Array {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new SnapshotError(`${what} is not base64`);
  const b = new Uint8Array(Buffer.from(v, 'base64'));
  const [lo, hi] = typeof size === 'number' ? [size, size] : size;
  if (b.length < lo || b.length > hi) throw new SnapshotError(`${what} is ${b.length} bytes (expected ${lo === hi ? lo : `${lo}..${hi}`})`);
  return b;
}

const PAGE = 4096;

/** Parse and check a snapshot against the domain it is restored into (sizes from its settings). */
export function decodeSnapshot(data: Uint8Array, expect: { ramBytes: number; memBytes: number; poolOffset: number; poolPages: number }): DomainSnapshot {
  if (data.length > SNAPSHOT_LIMITS.bytes) throw new SnapshotError(`hypervisor state is ${data.length} bytes (at most ${SNAPSHOT_LIMITS.bytes})`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    throw new SnapshotError('hypervisor state is not valid JSON');
  }
  const o = obj(raw, 'hypervisor state');
  if (o.version !== SNAPSHOT_VERSION && o.version !== 1) throw new SnapshotError(`hypervisor state version ${String(o.version)} is not supported (this build reads 1 and ${SNAPSHOT_VERSION})`);
  const ramBytes = int(o.ramBytes, 'ramBytes', 0, Number.MAX_SAFE_INTEGER);
  const memBytes = int(o.memBytes, 'memBytes', 0, Number.MAX_SAFE_INTEGER);
  if (ramBytes !== expect.ramBytes || memBytes !== expect.memBytes) throw new SnapshotError(`memory size ${ramBytes} does not match the domain's ${expect.ramBytes}`);
  const nrVcpus = int(o.nrVcpus, 'nrVcpus', 1, MAX_VCPUS);
  const poolEnd = expect.poolOffset + expect.poolPages * PAGE;
  const inPool = (off: number, what: string): number => {
    int(off, what, expect.poolOffset, poolEnd - PAGE);
    if (off % PAGE !== 0) throw new SnapshotError(`${what} is not page-aligned`);
    return off;
  };
  // shared_info sits in a RAM frame (placed in place) or a pool page.
  const inFile = (off: unknown, what: string): number => {
    int(off, what, 0, memBytes - PAGE);
    if ((off as number) % PAGE !== 0) throw new SnapshotError(`${what} is not page-aligned`);
    return off as number;
  };
  const memmap = arr(o.memmap, 'memmap', SNAPSHOT_LIMITS.memmap).map((e, i) => {
    const m = obj(e, `memmap[${i}]`);
    return { addr: int(m.addr, `memmap[${i}].addr`, 0, 2 ** 52), size: int(m.size, `memmap[${i}].size`, 0, 2 ** 52), type: int(m.type, `memmap[${i}].type`, 1, 0xffff) };
  });
  const params = arr(o.params, 'params', HVM_NR_PARAMS).map((p, i) => u64(p, `params[${i}]`));
  if (params.length !== HVM_NR_PARAMS) throw new SnapshotError(`params has ${params.length} entries (expected ${HVM_NR_PARAMS})`);
  const poolUsed = int(o.poolUsed, 'poolUsed', 1, expect.poolPages);
  const extra = arr(o.extra, 'extra', SNAPSHOT_LIMITS.extra).map((e, i) => {
    const r = obj(e, `extra[${i}]`);
    const gpa = int(r.gpa, `extra[${i}].gpa`, 0, 2 ** 46 - PAGE);
    if (gpa % PAGE !== 0) throw new SnapshotError(`extra[${i}].gpa is not page-aligned`);
    if (r.size !== PAGE) throw new SnapshotError(`extra[${i}].size must be one page`);
    return { gpa, size: PAGE, fileOffset: inPool(r.fileOffset as number, `extra[${i}].fileOffset`) };
  });
  const ports = arr(o.ports, 'ports', SNAPSHOT_LIMITS.ports).map((e, i) => {
    const p = obj(e, `ports[${i}]`);
    const state = int(p.state, `ports[${i}].state`, 1, 5);
    const s = EVTCHNSTAT.values;
    if (state !== s.unbound && state !== s.virq && state !== s.ipi) throw new SnapshotError(`ports[${i}] has state ${state}, which a restore cannot rebuild`);
    return {
      port: int(p.port, `ports[${i}].port`, 1, 4095), state, vcpu: int(p.vcpu, `ports[${i}].vcpu`, 0, nrVcpus - 1),
      remoteDom: int(p.remoteDom, `ports[${i}].remoteDom`, 0, 0x7fff),
      remotePort: int(p.remotePort, `ports[${i}].remotePort`, 0, state === s.virq ? NR_VIRQS - 1 : 0x1ffff),
    };
  });
  if (new Set(ports.map((p) => p.port)).size !== ports.length) throw new SnapshotError('ports lists a port twice');
  const grants = o.version === 1 ? { nrFrames: 1, frames: [] } : decodeGrants(obj(o.grants, 'grants'), inPool, inFile);
  const irqchips = arr(o.irqchips, 'irqchips', 3).map((c, i) => bytes(c, `irqchips[${i}]`, KVM_BLOB.irqchip));
  if (irqchips.length !== 3) throw new SnapshotError('irqchips must hold the two PICs and the IOAPIC');
  const vcpus = arr(o.vcpus, 'vcpus', MAX_VCPUS).map((e, i) => {
    const v = obj(e, `vcpus[${i}]`);
    const w = `vcpus[${i}]`;
    const vi = int(v.vcpuInfoOffset, `${w}.vcpuInfoOffset`, -1, memBytes - 64);
    return {
      regs: bytes(v.regs, `${w}.regs`, KVM_BLOB.regs), sregs: bytes(v.sregs, `${w}.sregs`, KVM_BLOB.sregs),
      xsave: bytes(v.xsave, `${w}.xsave`, [4096, SNAPSHOT_LIMITS.xsave]), lapic: bytes(v.lapic, `${w}.lapic`, KVM_BLOB.lapic),
      events: bytes(v.events, `${w}.events`, KVM_BLOB.events),
      msrs: arr(v.msrs, `${w}.msrs`, SNAPSHOT_LIMITS.msrs).map((m, j) => {
        const pair = arr(m, `${w}.msrs[${j}]`, 2);
        const index = int(pair[0], `${w}.msrs[${j}] index`, 0, 0xffffffff);
        if (!SAVED_MSRS.includes(index)) throw new SnapshotError(`${w}.msrs[${j}]: MSR 0x${index.toString(16)} is not one a save carries`);
        return [index, u64(pair[1], `${w}.msrs[${j}] value`)] as [number, bigint];
      }),
      flags: int(v.flags, `${w}.flags`, 0, 3), vcpuInfoOffset: vi, upcallVector: int(v.upcallVector, `${w}.upcallVector`, 0, 255),
      timerDeadline: u64(v.timerDeadline, `${w}.timerDeadline`), timerPeriod: u64(v.timerPeriod, `${w}.timerPeriod`),
    };
  });
  if (vcpus.length !== nrVcpus) throw new SnapshotError(`vcpus has ${vcpus.length} entries (expected ${nrVcpus})`);
  return {
    ramBytes, memBytes, nrVcpus, memmap, params,
    sharedInfoGpa: int(o.sharedInfoGpa, 'sharedInfoGpa', -1, 2 ** 46), sharedInfoOffset: inFile(o.sharedInfoOffset, 'sharedInfoOffset'),
    hypercallPageGpa: int(o.hypercallPageGpa, 'hypercallPageGpa', -1, 2 ** 46),
    wordSize: int(o.wordSize, 'wordSize', 0, 64), vmAssist: int(o.vmAssist, 'vmAssist', 0, 0x7fffffff),
    callbackGsi: int(o.callbackGsi, 'callbackGsi', -1, 23), poolUsed, extra, ports, grants, irqchips, vcpus,
  };
}

/** The grant table: frames' home and active pages in the pool, their entries there or in the guest's memory. */
function decodeGrants(g: Obj, inPool: (off: number, what: string) => number, inFile: (off: unknown, what: string) => number): GrantSnapshot {
  const nrFrames = int(g.nrFrames, 'grants.nrFrames', 1, GNTTAB_LIMITS.values.MAX_FRAMES);
  const frames = arr(g.frames, 'grants.frames', nrFrames).map((e, i) => {
    const f = obj(e, `grants.frames[${i}]`);
    const w = `grants.frames[${i}]`;
    const home = inPool(f.home as number, `${w}.home`);
    const gfn = int(f.gfn, `${w}.gfn`, -1, 2 ** 34);
    const current = inFile(f.current, `${w}.current`);
    if (gfn < 0 && current !== home) throw new SnapshotError(`${w} is away from its home page but placed nowhere`);
    return { home, current, active: inPool(f.active as number, `${w}.active`), gfn };
  });
  return { nrFrames, frames };
}
