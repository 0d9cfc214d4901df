// sector-store.ts: an emulated disk's image, read and written through blkback's host I/O code into a native sector buffer.
import koffi from 'koffi';
import { libc, viewAt, PROT_READ, PROT_WRITE, type NativePointer } from '../kvm/libc.ts';
// The same host-side path as the PV disk (preadv/pwritev/fdatasync), so PV and emulated
// disks differ only in their device model.
import { HostDisk, imageSize } from '../../dom0/blkback/host-io.ts';

export const SECTOR = 512;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;

/** Host errors come back as errno values (0 = success), as in blkback. */
export class SectorStore {
  readonly sectors: number;
  /** The transfer buffer: one DRQ block of sectors, in native memory that never moves. */
  readonly buffer: Uint8Array;
  private readonly host: HostDisk;
  private readonly ptr: NativePointer;

  constructor(readonly fd: number, readonly readonly: boolean, readonly maxSectors: number) {
    this.sectors = Math.floor(imageSize(fd) / SECTOR);
    const len = maxSectors * SECTOR;
    this.ptr = libc.mmap(null, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const addr = koffi.address(this.ptr) as bigint;
    if (addr === 0xffffffffffffffffn) throw new Error('emulated disk: cannot allocate its sector buffer');
    this.buffer = viewAt(addr, len);
    // HostDisk moves data between the image and "guest memory" at a base address: here the
    // base is our buffer, and every transfer is one span at offset 0.
    this.host = new HostDisk(fd, addr);
  }

  /** Read `count` sectors at `lba` into the buffer's start. */
  read(lba: number, count: number): number {
    return this.host.transfer(false, lba * SECTOR, [{ offset: 0, len: count * SECTOR }]);
  }

  /** Write `count` sectors at `lba` from the buffer's start. */
  write(lba: number, count: number): number {
    return this.host.transfer(true, lba * SECTOR, [{ offset: 0, len: count * SECTOR }]);
  }

  flush(): number {
    return this.host.flush();
  }

  /** Free the buffer (the image fd belongs to whoever opened it). `buffer` is unusable after. */
  close(): void {
    libc.munmap(this.ptr, this.maxSectors * SECTOR);
  }
}
