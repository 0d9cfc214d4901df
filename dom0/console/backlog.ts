// backlog.ts: the last N bytes of a console's output, for clients that attach later.

export class Backlog {
  private readonly buf: Uint8Array;
  /** Total bytes ever appended; the write position is `total % capacity`. */
  private total = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError('backlog capacity must be positive');
    this.buf = new Uint8Array(capacity);
  }

  append(bytes: Uint8Array): void {
    const cap = this.capacity;
    // Only the tail of an oversized chunk can survive.
    const src = bytes.length > cap ? bytes.subarray(bytes.length - cap) : bytes;
    const skipped = bytes.length - src.length;
    const at = (this.total + skipped) % cap;
    const first = Math.min(src.length, cap - at);
    this.buf.set(src.subarray(0, first), at);
    if (src.length > first) this.buf.set(src.subarray(first), 0);
    this.total += bytes.length;
  }

  /** A copy of the retained bytes, oldest first. */
  snapshot(): Uint8Array {
    const cap = this.capacity;
    if (this.total <= cap) return this.buf.slice(0, this.total);
    const at = this.total % cap;
    const out = new Uint8Array(cap);
    out.set(this.buf.subarray(at), 0);
    out.set(this.buf.subarray(0, at), cap - at);
    return out;
  }
}
