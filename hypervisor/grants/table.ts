// table.ts: a domain's own grant table — storage, growth, and placing frames in its physical
// address space (XENMAPSPACE_grant_table), run on the domain's own vCPU threads.
//
// Each frame has a hypervisor-private home page in the pool (plus one page of active entries).
// Placing frame i at a GFN makes the page there the frame: its entries are copied over and the
// frame's current offset recorded, so other domains' workers find entries where the guest writes
// them. Frames move only under the grant lock, which every cross-domain pin also takes.
import { neg } from '../../abi/errno.ts';
import { PAGE_SIZE } from '../memory/regions.ts';
import { POOL_PAGES, poolOffsetFor } from '../memory/memfd-layout.ts';
import type { GrantCaller } from './caller.ts';
import { MAX_FRAMES, type GrantState } from '../state/grant-state.ts';

/** Guest frame numbers beyond this are refused (as for shared_info placement). */
const MAX_GFN = 2 ** 40;

/**
 * Grow the caller's table to `n` frames (never shrinks), giving new frames storage. Also the
 * lazy first-use initialisation: frames exist from domain creation but get pages only when the
 * domain first touches its table. False when `n` is beyond the limit or the pool is exhausted.
 */
export function growTable(dom: GrantCaller, n: number): boolean {
  if (n > MAX_FRAMES) return false;
  const gs = dom.shared.grants;
  gs.lock();
  try {
    gs.ramPages = Math.floor(dom.ramBytes / PAGE_SIZE);
    const want = Math.max(n, gs.nrFrames);
    while (gs.allocatedFrames < want) {
      const idx = dom.mem.regions.allocPoolPages(2, POOL_PAGES);
      if (idx === null) return false;
      const home = poolOffsetFor(dom.ramBytes) + idx * PAGE_SIZE;
      dom.mem.bytes.fill(0, home, home + 2 * PAGE_SIZE);
      gs.addFrameStorage(home, home + PAGE_SIZE);
    }
    gs.nrFrames = want;
    return true;
  } finally {
    gs.unlock();
  }
}

/** Make sure the caller's current frames have storage (first use of the table). */
export function ensureTable(dom: GrantCaller): boolean {
  const gs = dom.shared.grants;
  return gs.allocatedFrames >= gs.nrFrames || growTable(dom, gs.nrFrames);
}

/**
 * XENMEM_add_to_physmap(XENMAPSPACE_grant_table, idx, gpfn). An idx beyond the current size
 * grows the table; idx with XENMAPIDX_grant_table_status (a v2 status frame) is out of range for
 * v1, so -EINVAL, as in Xen. A frame appears at one GFN only: a frame already at `gpfn` goes
 * back to its home page.
 */
export function placeGrantFrame(dom: GrantCaller, idx: bigint, gpfn: bigint): bigint {
  if (idx >= BigInt(MAX_FRAMES)) return neg('EINVAL');
  const i = Number(idx);
  if (!growTable(dom, i + 1)) return neg('EINVAL');
  if (gpfn >= BigInt(MAX_GFN)) return neg('EINVAL');
  const gfn = Number(gpfn);
  if (!dom.backSpecialPage(gfn)) return neg('EINVAL');
  const mem = dom.mem;
  const target = mem.offsetOf(gfn * PAGE_SIZE, PAGE_SIZE);
  if (target < 0) return neg('EINVAL');
  const gs = dom.shared.grants;
  gs.lock();
  try {
    for (let j = 0; j < gs.allocatedFrames; j++) {
      if (j !== i && gs.frameOffset(j) === target) moveFrame(gs, mem.bytes, j, gs.frameHome(j), -1);
    }
    moveFrame(gs, mem.bytes, i, target, gfn);
  } finally {
    gs.unlock();
  }
  return 0n;
}

/** GFNs of the first `n` frames for setup_table: where each is placed, or all-ones if nowhere. */
export function frameGfns(gs: GrantState, n: number): bigint[] {
  const out: bigint[] = [];
  gs.lock();
  try {
    for (let i = 0; i < n; i++) {
      const gfn = i < gs.allocatedFrames ? gs.frameGfn(i) : -1;
      out.push(gfn < 0 ? (1n << 64n) - 1n : BigInt(gfn));
    }
  } finally {
    gs.unlock();
  }
  return out;
}

function moveFrame(gs: GrantState, bytes: Uint8Array, i: number, to: number, gfn: number): void {
  const from = gs.frameOffset(i);
  if (from !== to) bytes.copyWithin(to, from, from + PAGE_SIZE);
  gs.setFrameOffset(i, to);
  gs.setFrameGfn(i, gfn);
}
