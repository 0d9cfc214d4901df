// host-io.ts: block I/O on the host image through koffi, straight between the image file and
// guest memory by host address (preadv/pwritev), plus fdatasync and hole punching. Failures
// come back as errno values, never exceptions: a broken image makes error responses, not a crash.
import koffi from 'koffi';
import { libc, viewAt, PROT_READ, PROT_WRITE, EINTR } from '../../hypervisor/kvm/libc.ts';
import type { GuestSpan } from '../backend-sdk/blkif-requests.ts';

const lib = koffi.load('libc.so.6');
const native = {
  preadv: lib.func('int64_t preadv(int fd, uintptr_t iov, int cnt, int64_t off)') as (fd: number, iov: bigint, n: number, off: number) => number,
  pwritev: lib.func('int64_t pwritev(int fd, uintptr_t iov, int cnt, int64_t off)') as (fd: number, iov: bigint, n: number, off: number) => number,
  fdatasync: lib.func('int fdatasync(int fd)') as (fd: number) => number,
  fallocate: lib.func('int fallocate(int fd, int mode, int64_t off, int64_t len)') as (fd: number, m: number, off: number, len: number) => number,
};

const FALLOC_FL_KEEP_SIZE = 1;
const FALLOC_FL_PUNCH_HOLE = 2;
const EIO = 5;
const IOV_MAX = 1024;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const ZERO_CHUNK = 1 << 20;

/** Native memory for iovec arrays and a zero buffer (JS buffers may move; these never do). */
class Scratch {
  readonly iovAddr: bigint;
  readonly iov: DataView;
  readonly zeroAddr: bigint;

  constructor() {
    const len = IOV_MAX * 16 + ZERO_CHUNK;
    const addr = koffi.address(libc.mmap(null, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) as bigint;
    if (addr === 0xffffffffffffffffn) throw new Error('blkback: cannot allocate I/O scratch memory');
    const bytes = viewAt(addr, IOV_MAX * 16);
    this.iovAddr = addr;
    this.iov = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.zeroAddr = addr + BigInt(IOV_MAX * 16); // anonymous memory starts zeroed and is never written
  }
}

export class HostDisk {
  private readonly scratch = new Scratch();

  /** `base` is the host address of guest memory offset 0. */
  constructor(readonly fd: number, private readonly base: bigint) {}

  /** Read (`write` false) or write the image at byte `pos` into/from guest spans; 0 or an errno. */
  transfer(write: boolean, pos: number, spans: readonly GuestSpan[]): number {
    for (let i = 0; i < spans.length; i += IOV_MAX) {
      const chunk = spans.slice(i, i + IOV_MAX);
      let want = 0;
      chunk.forEach((s, k) => {
        this.scratch.iov.setBigUint64(k * 16, this.base + BigInt(s.offset), true);
        this.scratch.iov.setBigUint64(k * 16 + 8, BigInt(s.len), true);
        want += s.len;
      });
      const err = this.full(want, () => (write ? native.pwritev : native.preadv)(this.fd, this.scratch.iovAddr, chunk.length, pos));
      if (err !== 0) return err;
      pos += want;
    }
    return 0;
  }

  flush(): number {
    return retry(() => native.fdatasync(this.fd)) < 0 ? koffi.errno() || EIO : 0;
  }

  /** Deallocate a range, keeping the size; zero-fill where the file system cannot punch holes. */
  discard(pos: number, len: number): number {
    if (len === 0) return 0;
    if (native.fallocate(this.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, pos, len) === 0) return 0;
    for (let done = 0; done < len;) {
      const n = Math.min(ZERO_CHUNK, len - done);
      this.scratch.iov.setBigUint64(0, this.scratch.zeroAddr, true);
      this.scratch.iov.setBigUint64(8, BigInt(n), true);
      const err = this.full(n, () => native.pwritev(this.fd, this.scratch.iovAddr, 1, pos + done));
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

const lseek = lib.func('int64_t lseek(int fd, int64_t off, int whence)') as (fd: number, off: number, whence: number) => number;
const SEEK_END = 2;

/** Size in bytes of an image file or block device (fstat says 0 for the latter). */
export function imageSize(fd: number): number {
  const n = Number(lseek(fd, 0, SEEK_END));
  if (n < 0) throw new Error(`cannot size the image (errno ${koffi.errno()})`);
  return n;
}
