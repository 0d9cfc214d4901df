// block-io.ts: block I/O on the host image through koffi, straight between the image file and
// guest memory by host address (preadv/pwritev), plus fdatasync and hole punching. Failures
// come back as errno values, never exceptions: a broken image makes error responses, not a crash.
import koffi from 'koffi';
import { libc, mapAnonymous, EINTR } from './libc.ts';

/** A byte range of guest memory (or of any buffer at the disk's base address). */
export interface IoSpan {
  readonly offset: number;
  readonly len: number;
}

const FALLOC_FL_KEEP_SIZE = 1;
const FALLOC_FL_PUNCH_HOLE = 2;
const EIO = 5;
const IOV_MAX = 1024;
const ZERO_CHUNK = 1 << 20;

/** Native memory for iovec arrays and a zero buffer (JS buffers may move; these never do). */
class Scratch {
  readonly iovAddr: bigint;
  readonly iov: DataView;
  readonly zeroAddr: bigint;

  constructor() {
    const { addr, bytes } = mapAnonymous(IOV_MAX * 16 + ZERO_CHUNK, 'mmap host I/O scratch memory');
    this.iovAddr = addr;
    this.iov = new DataView(bytes.buffer, bytes.byteOffset, IOV_MAX * 16);
    this.zeroAddr = addr + BigInt(IOV_MAX * 16); // anonymous memory starts zeroed and is never written
  }
}

export class HostDisk {
  private readonly scratch = new Scratch();

  /** `base` is the host address of guest memory offset 0. */
  constructor(readonly fd: number, private readonly base: bigint) {}

  /** Read (`write` false) or write the image at byte `pos` into/from guest spans; 0 or an errno. */
  transfer(write: boolean, pos: number, spans: readonly IoSpan[]): number {
    for (let i = 0; i < spans.length; i += IOV_MAX) {
      const chunk = spans.slice(i, i + IOV_MAX);
      let want = 0;
      chunk.forEach((s, k) => {
        this.scratch.iov.setBigUint64(k * 16, this.base + BigInt(s.offset), true);
        this.scratch.iov.setBigUint64(k * 16 + 8, BigInt(s.len), true);
        want += s.len;
      });
      const err = this.full(want, () => (write ? libc.pwritev : libc.preadv)(this.fd, this.scratch.iovAddr, chunk.length, pos));
      if (err !== 0) return err;
      pos += want;
    }
    return 0;
  }

  flush(): number {
    return retry(() => libc.fdatasync(this.fd)) < 0 ? koffi.errno() || EIO : 0;
  }

  /** Deallocate a range, keeping the size; zero-fill where the file system cannot punch holes. */
  discard(pos: number, len: number): number {
    if (len === 0) return 0;
    if (discardFileRange(this.fd, pos, len) === 0) return 0;
    for (let done = 0; done < len;) {
      const n = Math.min(ZERO_CHUNK, len - done);
      this.scratch.iov.setBigUint64(0, this.scratch.zeroAddr, true);
      this.scratch.iov.setBigUint64(8, BigInt(n), true);
      const err = this.full(n, () => libc.pwritev(this.fd, this.scratch.iovAddr, 1, pos + done));
      if (err !== 0) return err;
      done += n;
    }
    return 0;
  }

  /** One vectored call must move every byte: a short count is the end of a shrunk image. */
  private full(want: number, call: () => number): number {
    const got = retry(call);
    if (got < 0) return koffi.errno() || EIO;
    return got === want ? 0 : EIO;
  }
}

function retry(call: () => number): number {
  for (;;) {
    const r = Number(call());
    if (r >= 0 || koffi.errno() !== EINTR) return r;
  }
}

const SEEK_END = 2;

/** Size in bytes of an image file or block device (fstat says 0 for the latter). */
export function imageSize(fd: number): number {
  const n = Number(libc.lseek(fd, 0, SEEK_END));
  if (n < 0) throw new Error(`cannot size the image (errno ${koffi.errno()})`);
  return n;
}

/**
 * Give the blocks of [pos, pos + len) back to the file system, keeping the size: they read as zero
 * afterwards (a memfd's pages go back to the host). 0 or an errno.
 */
export function discardFileRange(fd: number, pos: number, len: number): number {
  return libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, pos, len) === 0 ? 0 : koffi.errno() || EIO;
}
