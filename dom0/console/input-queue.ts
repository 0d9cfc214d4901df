// input-queue.ts: a bounded FIFO of terminal input waiting for room in the guest's input ring.
//
// A guest that never reads its console must not make dom0 buffer without limit: input past the
// bound is dropped and counted (a terminal user sees their keystrokes vanish, not dom0 grow).

export class InputQueue {
  private chunks: Uint8Array[] = [];
  private queued = 0;
  /** Bytes refused because the queue was full. */
  dropped = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.queued;
  }

  /** Queue a copy of what fits; returns how many bytes were accepted. */
  enqueue(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.capacity - this.queued);
    this.dropped += bytes.length - n;
    if (n > 0) {
      // Copy: the caller may reuse its buffer (stdin chunks, socket reads).
      this.chunks.push(bytes.slice(0, n));
      this.queued += n;
    }
    return n;
  }

  /** Offer queued bytes in order to `sink`, which takes a prefix; stops when it takes less. */
  drainInto(sink: (bytes: Uint8Array) => number): number {
    let moved = 0;
    while (this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const n = sink(head);
      moved += n;
      this.queued -= n;
      if (n < head.length) {
        this.chunks[0] = head.subarray(n);
        break;
      }
      this.chunks.shift();
    }
    return moved;
  }

  clear(): void {
    this.chunks = [];
    this.queued = 0;
  }
}
