// guest-map.ts: dom0's mapping of a whole guest memory file, shared by a device's data-path
// worker (threads share the address space) — the way vhost-user backends map guest RAM.
import { fstatSync } from 'node:fs';
import koffi from 'koffi';
import { HostError, PROT_READ, PROT_WRITE, MAP_SHARED } from '../../hypervisor/kvm/libc.ts';

const lib = koffi.load('libc.so.6');
const mmap = lib.func('uintptr_t mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, int64_t off)') as
  (addr: bigint, len: number, prot: number, flags: number, fd: number, off: number) => bigint | number;
const munmap = lib.func('int munmap(uintptr_t addr, size_t len)') as (addr: bigint, len: number) => number;

export interface GuestMapping {
  readonly base: bigint;
  readonly size: number;
  unmap(): void;
}

/** Map `fd` (the guest memory file) whole, read-write and shared. The fd stays the caller's. */
export function mapGuestMemory(fd: number): GuestMapping {
  const size = fstatSync(fd).size;
  if (size <= 0) throw new Error('guest memory file is empty');
  // koffi hands back a uintptr_t as a number when it fits, else as a bigint.
  const base = BigInt(mmap(0n, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (base === 0xffffffffffffffffn) throw new HostError('mmap guest memory', koffi.errno());
  let mapped = true;
  return {
    base, size,
    unmap: () => {
      if (mapped) munmap(base, size);
      mapped = false;
    },
  };
}
