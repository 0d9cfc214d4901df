// token-bucket.ts: a vif's transmit rate limit (xl's `rate=`), a token bucket in bytes. As Linux
// netback's credit scheduler does, a packet over the rate is held back on the ring until enough
// credit has accumulated, never dropped, so the guest sees back-pressure, not loss.

export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * `burst` bytes may go at once; it is at least one full frame, or a frame larger than the
   * bucket could never be sent.
   */
  constructor(readonly bytesPerSec: number, readonly burst: number, private readonly now: () => number = () => performance.now()) {
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.bytesPerSec) / 1000);
    this.last = t;
  }

  /** Take `bytes` if the credit is there. */
  take(bytes: number): boolean {
    this.refill();
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }

  /** Milliseconds until `bytes` would be available (0 if now). */
  waitMs(bytes: number): number {
    this.refill();
    return this.tokens >= bytes ? 0 : Math.ceil(((Math.min(bytes, this.burst) - this.tokens) * 1000) / this.bytesPerSec);
  }
}
