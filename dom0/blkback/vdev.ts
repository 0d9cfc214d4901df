// vdev.ts: virtual-device numbers from disk names (xen-vbd-interface, docs/xen-abi.md §9.4).

/** "a" → 0, "z" → 25, "aa" → 26 … (the Linux naming, bijective base 26). */
function diskIndex(letters: string): number {
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

/**
 * `xvda` → 51712, `xvdb3` → 51731, `xvdq` → 268439552, `sda` → 2048, `hdc` → 5632; also a plain
 * decimal number or `d<disk>p<part>`. Throws RangeError on a name outside the scheme.
 */
export function vdevToDevid(vdev: string): number {
  if (/^(?:0|[1-9][0-9]{0,9})$/.test(vdev)) return Number(vdev);
  const dp = /^d(0|[1-9][0-9]*)(?:p(0|[1-9][0-9]*))?$/.exec(vdev);
  const m = dp === null ? /^(xvd|sd|hd)([a-z]+)(0|[1-9][0-9]*)?$/.exec(vdev) : null;
  if (dp === null && m === null) throw new RangeError(`bad virtual device '${vdev}'`);
  const kind = dp !== null ? 'xvd' : m![1]!;
  const disk = dp !== null ? Number(dp[1]) : diskIndex(m![2]!);
  const part = Number((dp !== null ? dp[2] : m![3]) ?? 0);
  if (kind === 'xvd') {
    if (disk < 16 && part < 16) return (202 << 8) | (disk << 4) | part;
    if (disk < 1 << 20 && part < 256) return (1 << 28) | (disk << 8) | part;
  } else if (kind === 'sd') {
    if (disk < 16 && part < 16) return (8 << 8) | (disk << 4) | part;
  } else if (disk < 4 && part < 64) {
    return disk < 2 ? (3 << 8) | (disk << 6) | part : (22 << 8) | ((disk - 2) << 6) | part;
  }
  throw new RangeError(`virtual device '${vdev}' is out of range`);
}
