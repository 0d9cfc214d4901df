// shared-info-page.ts: placing the shared_info page (XENMAPSPACE_shared_info) and its wallclock.
import { SharedInfo64, SharedInfo32 } from '../../abi/shared-info.ts';
import { readNum, writeField, type StructDef } from '../../abi/layout.ts';
import { neg } from '../../abi/errno.ts';
import type { HypercallContext } from './context.ts';

const PAGE = 4096;

/**
 * Put shared_info at `gpfn`. A RAM frame becomes the shared_info page in place (its old contents
 * are gone, as when Xen frees the RAM page there); a frame beyond RAM gets its own memory slot.
 * The current contents (pending events included) move along, so shared_info appears at one GFN.
 */
export function placeSharedInfo(ctx: HypercallContext, gpfn: bigint): bigint {
  if (gpfn >= 1n << 40n) return neg('EINVAL');
  const gpa = Number(gpfn) * PAGE;
  const mem = ctx.dom.mem;
  if (!ctx.dom.backSpecialPage(Number(gpfn))) return neg('EINVAL');
  const target = mem.offsetOf(gpa, PAGE);
  const sh = ctx.dom.shared;
  const old = sh.sharedInfoOffset;
  if (target !== old) {
    if (old >= 0) mem.bytes.copyWithin(target, old, old + PAGE);
    else mem.bytes.fill(0, target, target + PAGE);
    sh.sharedInfoOffset = target;
  }
  sh.sharedInfoGpa = gpa;
  writeWallclock(ctx);
  return 0n;
}

/**
 * Publish wall-clock time at system time 0 (wc_*), with the seqlock version protocol (odd while
 * writing), in the shared_info layout the domain latched; the compat one keeps wc_sec_hi in arch.
 */
export function writeWallclock(ctx: HypercallContext): void {
  const base = ctx.dom.shared.sharedInfoOffset;
  if (base < 0) return;
  const compat = ctx.dom.shared.wordSize === 32;
  const layout: StructDef<'wc_version' | 'wc_sec' | 'wc_nsec'> = compat ? SharedInfo32 : SharedInfo64;
  const v = ctx.dom.mem.view;
  const wallNs = BigInt(Date.now()) * 1_000_000n - ctx.dom.now();
  const sec = wallNs / 1_000_000_000n;
  const version = readNum(v, base, layout, 'wc_version');
  writeField(v, base, layout, 'wc_version', (version + 1) | 1);
  writeField(v, base, layout, 'wc_sec', sec); // the low 32 bits: writeField truncates
  writeField(v, base, layout, 'wc_nsec', wallNs % 1_000_000_000n);
  if (compat) writeField(v, base, SharedInfo32, 'arch.wc_sec_hi', sec >> 32n);
  else writeField(v, base, SharedInfo64, 'wc_sec_hi', sec >> 32n);
  writeField(v, base, layout, 'wc_version', ((version + 1) | 1) + 1);
}
