// blk.ts: helpers for the block tests — image files in a temp dir, blkwork's byte patterns, and
// running a block guest with disks through `pvkvm run` or from a config file on test daemons.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGuest, testResult, guestPath } from './run-guest.ts';

export const MiB = 1024 * 1024;

/** An xl config in `dir` for a `blkwork` guest (32 MiB) on `img` as xvda; returns its path. */
export function blkworkConfig(dir: string, name: string, img: string, cmdline: string): string {
  const p = join(dir, `${name}.cfg`);
  writeFileSync(p, `name = "${name}"\nkernel = "${guestPath('blkwork')}"\nmemory = 32\n` +
    `cmdline = "${cmdline}"\ndisk = [ 'format=raw, vdev=xvda, access=rw, target=${img}' ]\n`);
  return p;
}

/** A temp directory for images; call the returned cleanup in a teardown. */
export function imageDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-blk-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A sparse image of `bytes`, or one filled byte by byte from `fill(offset)`. */
export function image(dir: string, name: string, bytes: number, fill?: (o: number) => number): string {
  const p = join(dir, name);
  if (fill === undefined) {
    writeFileSync(p, '');
    truncateSync(p, bytes);
  } else {
    const b = Buffer.alloc(bytes);
    for (let o = 0; o < bytes; o++) b[o] = fill(o);
    writeFileSync(p, b);
  }
  return p;
}

export const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** blkwork's seqwrite pattern (see test/guests/blkwork/blkwork.c). */
export function guestPattern(o: number, seed = 1): number {
  const sec = Math.floor(o / 512) >>> 0;
  const h = Math.imul(sec, 0x9e3779b1) >>> 0;
  return ((o & 511) * 7 + (h >>> 24) + seed) & 0xff;
}

/** blkwork's verify-host pattern. */
export const hostPattern = (o: number): number => (o * 7 + Math.floor(o / 512)) & 0xff;

/** Run a block guest with `disks` (PATH or PATH,ro) and its command line. */
export async function runBlockGuest(guest: string, disks: string[], cmdline: string): Promise<{ result: string | null; out: string; code: number | null }> {
  const r = await runGuest(guest, [...disks.flatMap((d) => ['--disk', d]), '--cmdline', cmdline]);
  return { result: testResult(r.stdout), out: r.stdout + r.stderr, code: r.code };
}
