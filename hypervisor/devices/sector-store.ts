// sector-store.ts: an emulated disk's image, read and written through blkback's host I/O code into a native sector buffer.
import { libc, mapAnonymous, type NativePointer } from '../../host/libc.ts';
// The same host-side path as the PV disk (preadv/pwritev/fdatasync), so PV and emulated
// disks differ only in their device model.
import { HostDisk, imageSize } from '../../host/block-io.ts';

export const SECTOR = 512;

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
    const { ptr, addr, bytes } = mapAnonymous(len, 'mmap the emulated disk\'s sector buffer');
    this.ptr = ptr;
    this.buffer = bytes;
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
