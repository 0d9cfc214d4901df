// console-log.ts: append a domain's console output to its log file, asynchronously and in order.
//
// One write is in flight at a time; output arriving meanwhile is batched. The batch is bounded so
// that a guest printing faster than the disk absorbs cannot grow dom0's memory: the excess is
// dropped, counted, and a marker line says so in the log. Failing to log never stops the console.
import { open, type FileHandle } from 'node:fs/promises';

/** Most bytes waiting for the disk before new output is dropped. */
export const LOG_PENDING_MAX = 1 << 20;

export class ConsoleLog {
  private file: Promise<FileHandle | null>;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private droppedSinceMarker = 0;
  private flushing: Promise<void> | null = null;
  private closed = false;
  /** Bytes of output that never reached the file (backpressure or a write error). */
  dropped = 0;
  /** The first error met, after which the log stops writing. */
  error: Error | null = null;

  constructor(readonly path: string, private readonly onError: (err: Error) => void = () => {}) {
    this.file = open(path, 'a').catch((err: Error) => {
      this.fail(err);
      return null;
    });
  }

  append(bytes: Uint8Array): void {
    if (this.closed || this.error !== null || bytes.length === 0) return;
    if (this.pendingBytes + bytes.length > LOG_PENDING_MAX) {
      this.dropped += bytes.length;
      this.droppedSinceMarker += bytes.length;
      return;
    }
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.flushing ??= this.flushLoop();
  }

  /** Resolves once everything appended so far is written. */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }

  /** Write what is pending, then close the file. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    const fh = await this.file;
    this.file = Promise.resolve(null);
    if (fh !== null) await fh.close().catch(() => {});
  }

  private async flushLoop(): Promise<void> {
    try {
      const fh = await this.file;
      while (fh !== null && this.error === null && (this.pending.length > 0 || this.droppedSinceMarker > 0)) {
        const parts = this.pending;
        this.pending = [];
        this.pendingBytes = 0;
        if (this.droppedSinceMarker > 0) {
          parts.push(new TextEncoder().encode(`\n[pvkvm: ${this.droppedSinceMarker} bytes of console output dropped]\n`));
          this.droppedSinceMarker = 0;
        }
        await fh.write(concat(parts));
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.flushing = null;
    }
  }

  private fail(err: Error): void {
    if (this.error !== null) return;
    this.error = err;
    this.dropped += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.onError(err);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
