// guest-memory-file.ts: dom0's mapping of a whole guest memory file, shared by a device's data-path
// worker (threads share the address space) — the way vhost-user backends map guest RAM.
import { fstatSync } from 'node:fs';
import { libc, mapShared } from './libc.ts';

export interface GuestMapping {
  readonly base: bigint;
  readonly size: number;
  unmap(): void;
}

/** Map `fd` (the guest memory file) whole, read-write and shared. The fd stays the caller's. */
export function mapGuestMemory(fd: number): GuestMapping {
  const size = fstatSync(fd).size;
  if (size <= 0) throw new Error('guest memory file is empty');
  const m = mapShared(fd, size);
  let mapped = true;
  return {
    base: m.addr, size,
    unmap: () => {
      if (mapped) libc.munmap(m.ptr, size);
      mapped = false;
    },
  };
}
