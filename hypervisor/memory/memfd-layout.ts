// memfd-layout.ts: what lies where in a domain's guest memory file — RAM from offset 0, then the
// special pages, then the pool of hypervisor-owned frames.
import { PAGE_SIZE } from './regions.ts';

/** Special pages live in one 8-frame group ending at GFN 0xFF000 (libxenguest's convention). */
export const SPECIAL_BASE_GPA = 0xfeff8000;
export const SPECIAL_PAGES = 8;
/**
 * Spare frames after the special pages: pages a guest places beyond RAM (shared_info, grant
 * frames) and hypervisor-private pages (each grant frame's home and its active-entry page).
 * 32 grant frames take up to 96 of them; the memfd is sparse, so unused ones cost nothing.
 */
export const POOL_PAGES = 192;

/** Offset in the memfd of the first pool page, for a domain with `ramBytes` of RAM. */
export function poolOffsetFor(ramBytes: number): number {
  return ramBytes + SPECIAL_PAGES * PAGE_SIZE;
}
