// clock.ts: the host's monotonic clock in milliseconds, the same in every process and thread
// (CLOCK_MONOTONIC), so two daemons can order events each of them saw.
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
