// gate.ts: how a soak run's workload loops are paused, drained and stopped — a loop passes the
// gate before each guest it starts, so the run can wait for a moment with none of them in flight
// (where the daemons are measured) and then let them go on.
export class Gate {
  private paused = false;
  private stopped = false;
  private active = 0;
  private wake: (() => void)[] = [];

  /** Wait while paused; false once the run is stopping (start nothing more). */
  async enter(): Promise<boolean> {
    while (this.paused && !this.stopped) await new Promise<void>((r) => this.wake.push(r));
    if (this.stopped) return false;
    this.active++;
    return true;
  }

  leave(): void {
    this.active--;
    this.notify();
  }

  get inFlight(): number { return this.active; }

  /** Hold new work back and wait until nothing is in flight (or ms pass: false). */
  async drain(ms: number): Promise<boolean> {
    this.paused = true;
    const deadline = Date.now() + ms;
    while (this.active > 0) {
      if (Date.now() > deadline) return false;
      await new Promise<void>((r) => { this.wake.push(r); setTimeout(r, 500); });
    }
    return true;
  }

  resume(): void {
    this.paused = false;
    this.notify();
  }

  /** From now on enter() refuses; waiting loops are released to end. */
  stop(): void {
    this.stopped = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = [];
    for (const f of w) f();
  }
}
