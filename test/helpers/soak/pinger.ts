// pinger.ts: how long dom0 takes to answer a toolstack `ping`, asked once a second through a soak
// run — reported beside the I/O errors (never checked): a guest whose xenstore or console waits ran
// out while dom0 answered quickly points at a lost notification, not at a busy host.
import { ControlClient } from '../../../cli/control-client.ts';

export class Dom0Pinger {
  private periodMax = 0;
  private overallMax = 0;
  private slow = 0;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  /** Round trips slower than this are counted (`slow`). */
  static readonly SLOW_MS = 5000;

  start(c: ControlClient, everyMs = 1000): void {
    this.done = (async () => {
      while (!this.stopped) {
        const t0 = performance.now();
        const ok = await c.request('ping').then(() => true, () => false);
        if (!ok) return;
        const ms = Math.round(performance.now() - t0);
        this.periodMax = Math.max(this.periodMax, ms);
        this.overallMax = Math.max(this.overallMax, ms);
        if (ms > Dom0Pinger.SLOW_MS) this.slow++;
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  /** The slowest round trip since the last call. */
  takePeriodMax(): number {
    const m = this.periodMax;
    this.periodMax = 0;
    return m;
  }

  get maxMs(): number { return this.overallMax; }
  get slowCount(): number { return this.slow; }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}
