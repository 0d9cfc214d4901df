// io-bus.ts: a domain's port-I/O and MMIO address maps — devices claim disjoint ranges, exits dispatch by address.
import { PvkvmError } from '../../host/errors.ts';

/** A device reached through `in`/`out`. `size` is 1, 2 or 4; reads return the zero-extended value. */
export interface PortDevice {
  readonly name: string;
  read(port: number, size: number): number;
  write(port: number, size: number, value: number): void;
}

/** A device reached through loads and stores to guest-physical addresses KVM does not back. */
export interface MmioDevice {
  readonly name: string;
  /** Fill `data` (1–8 bytes) from the device at `gpa`. */
  read(gpa: number, data: Uint8Array): void;
  write(gpa: number, data: Uint8Array): void;
}

export class DeviceRangeError extends PvkvmError {
  override name = 'DeviceRangeError';
}

interface Range<D> {
  readonly base: number;
  readonly end: number; // exclusive
  /** null: claimed, but the device is served on another vCPU's thread (see domain-devices.ts). */
  readonly device: D | null;
  readonly name: string;
}

/** Disjoint ranges, kept sorted; lookups are a short linear scan (a PC has a handful of devices). */
export class AddressMap<D extends { readonly name: string }> {
  private ranges: Range<D>[] = [];

  constructor(private readonly what: string, private readonly limit: number) {}

  /** Claim [base, base+length) for `device`; throws on overlap or out-of-space ranges. */
  register(base: number, length: number, device: D | null, name = device?.name ?? '?'): void {
    const end = base + length;
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(length) || base < 0 || length < 1 || end > this.limit) {
      throw new DeviceRangeError(`${name}: ${this.what} range 0x${base.toString(16)}+${length} is out of bounds`);
    }
    const clash = this.ranges.find((r) => base < r.end && r.base < end);
    if (clash !== undefined) {
      throw new DeviceRangeError(`${name}: ${this.what} range 0x${base.toString(16)}-0x${(end - 1).toString(16)} overlaps ${clash.name} at 0x${clash.base.toString(16)}-0x${(clash.end - 1).toString(16)}`);
    }
    this.ranges.push({ base, end, device, name });
    this.ranges.sort((a, b) => a.base - b.base);
  }

  /** The range holding `addr`, or undefined when nothing claims it. */
  find(addr: number): Range<D> | undefined {
    for (const r of this.ranges) if (addr >= r.base && addr < r.end) return r;
    return undefined;
  }

  get size(): number {
    return this.ranges.length;
  }
}

export const PORT_SPACE = 0x10000;
/** MMIO below 2^52 (x86 MAXPHYADDR); addresses are kept as safe integers. */
export const MMIO_SPACE = 2 ** 52;

export type PortMap = AddressMap<PortDevice>;
export type MmioMap = AddressMap<MmioDevice>;

export const newPortMap = (): PortMap => new AddressMap<PortDevice>('port', PORT_SPACE);
export const newMmioMap = (): MmioMap => new AddressMap<MmioDevice>('MMIO', MMIO_SPACE);

/**
 * Byte-register devices answer wider accesses the way an ISA bus does: one byte cycle per port,
 * so `inw 0x3F9` reads 0x3F9 and 0x3FA. Bytes past the device read as all-ones.
 */
export function splitRead(end: number, port: number, size: number, readByte: (port: number) => number): number {
  let v = 0;
  for (let i = 0; i < size; i++) v |= ((port + i < end ? readByte(port + i) : 0xff) & 0xff) << (8 * i);
  return v >>> 0;
}

export function splitWrite(end: number, port: number, size: number, value: number, writeByte: (port: number, v: number) => void): void {
  for (let i = 0; i < size && port + i < end; i++) writeByte(port + i, (value >>> (8 * i)) & 0xff);
}
