// vif-rate.ts: xl's vif `rate=RATE/s[@INTERVAL]` (xl-network-configuration(5), libxlu_vif.c):
// RATE is a whole number with an optional G, M or K (powers of 1000) and B for bytes or b for
// bits; INTERVAL, how often the credit is replenished, takes s, ms or us (bare: seconds, as xl).

const RATE = /^(\d+)([GMK]?)([Bb])\/s$/;
const INTERVAL = /^(\d+)(s|ms|us)?$/;
const UINT32_MAX = 0xffffffff;
const MULT: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9 };

const GRAMMAR = 'expected RATE/s[@INTERVAL], e.g. 100Mb/s, 10MB/s or 1MB/s@20ms (units B, KB, MB, GB for bytes; b, Kb, Mb, Gb for bits)';

/** The rate in bytes per second and, if given, the interval in µs; or a one-line problem. */
export function parseVifRate(text: string): { bytesPerSec: number; intervalUs?: number } | string {
  const at = text.indexOf('@');
  const ratePart = at < 0 ? text : text.slice(0, at);
  const m = RATE.exec(ratePart);
  if (m === null) return `bad rate '${text.slice(0, 40)}': ${GRAMMAR}`;
  const n = Number(m[1]);
  // xl refuses 0 and anything that does not fit 32 bits before the unit is applied.
  if (n === 0 || n > UINT32_MAX) return `bad rate '${text.slice(0, 40)}': the number must be 1..${UINT32_MAX}`;
  let bytesPerSec = n * MULT[m[2]!]!;
  if (m[3] === 'b') bytesPerSec = Math.floor(bytesPerSec / 8);
  if (bytesPerSec < 1) return `bad rate '${text.slice(0, 40)}': less than one byte per second`;
  if (at < 0) return { bytesPerSec };
  const im = INTERVAL.exec(text.slice(at + 1));
  if (im === null) return `bad rate interval '${text.slice(at + 1, at + 41)}': expected a number with s, ms or us, e.g. @20ms`;
  const unit = im[2] ?? 's';
  const intervalUs = Number(im[1]) * (unit === 's' ? 1e6 : unit === 'ms' ? 1e3 : 1);
  if (intervalUs < 1 || intervalUs > UINT32_MAX) return `bad rate interval '${text.slice(at + 1, at + 41)}': must be 1 us..4294 s`;
  return { bytesPerSec, intervalUs };
}
