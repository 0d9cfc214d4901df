// save-restore.ts: `pvkvm save` and `pvkvm restore` on dom0's side — the cooperative Xen protocol
// (control/shutdown = "suspend", the guest's SCHEDOP_shutdown(SHUTDOWN_suspend)), then the file:
// the domain's settings (its PV disks and vifs among them), its xenstore subtree, the
// hypervisor's state and its non-zero memory. The backends are not quiesced: a request they
// answer after the memory was read is simply unanswered in the file, and the restored guest's
// frontends, which reconnect to the new domain's backends, issue it again.
import { openSync, closeSync, writeSync, readSync, fstatSync, renameSync, rmSync, fsyncSync } from 'node:fs';
import type { HvClient } from '../hv-client.ts';
import type { Xenstored } from '../xenstore/xenstored.ts';
import type { XsPerm } from '../xenstore/permissions.ts';
import type { GuestDomain } from './guest-domain.ts';
import type { DomainSettings } from '../../abi/domain-settings.ts';
import { settingsProblem } from '../../abi/domain-settings.ts';
import { mapShared, libc } from '../../host/libc.ts';
import { discardFileRange } from '../../host/block-io.ts';
import {
  SECTION, SAVE_PAGE, fileHeader, sectionHeader, runHeader, readSections, forEachRun, SaveFileError, type ReadAt,
} from '../../abi/save-file.ts';

/** How long a guest has to answer control/shutdown = "suspend". */
export const SUSPEND_TIMEOUT_MS = 30_000;
const MAX_XS_NODES = 10_000;
/** Nodes the toolstack writes itself at restore (never taken from the file) or that must not come back. */
const SKIP_XS = /^(control\/shutdown)$/;

export class SaveError extends Error {}

interface XsNode { p: string; v: string; perms: { id: number | 'self'; perm: string }[] }

/** The guest's home subtree, paths relative to it, the domain's own id in perms as 'self'. */
function readSubtree(xs: Xenstored, domid: number): XsNode[] {
  const home = `/local/domain/${domid}`;
  const out: XsNode[] = [];
  const walk = (rel: string): void => {
    if (out.length >= MAX_XS_NODES) return;
    const path = rel === '' ? home : `${home}/${rel}`;
    const v = xs.local.read(path);
    if (rel !== '' && v !== null) {
      const perms = (xs.local.getPerms(path) ?? []).map((q) => ({ id: q.id === domid ? 'self' as const : q.id, perm: q.perm }));
      out.push({ p: rel, v, perms });
    }
    for (const c of xs.local.directory(path) ?? []) walk(rel === '' ? c : `${rel}/${c}`);
  };
  walk('');
  return out;
}

/** Put back the nodes the new domain does not have yet (the toolstack has written its own). */
function writeSubtree(xs: Xenstored, domid: number, raw: unknown): void {
  if (!Array.isArray(raw) || raw.length > MAX_XS_NODES) throw new SaveFileError('XENSTORE section is not a list of nodes');
  const home = `/local/domain/${domid}`;
  for (const n of raw as unknown[]) {
    const node = n as Partial<XsNode>;
    if (typeof node?.p !== 'string' || typeof node.v !== 'string' || !Array.isArray(node.perms)) throw new SaveFileError('XENSTORE section: bad node');
    if (!/^[A-Za-z0-9_@\-]+(\/[A-Za-z0-9_@\-]+)*$/.test(node.p) || node.p.length > 1024 || node.v.length > 4096) throw new SaveFileError(`XENSTORE section: bad node '${String(node.p).slice(0, 64)}'`);
    if (SKIP_XS.test(node.p)) continue;
    const path = `${home}/${node.p}`;
    if (xs.local.read(path) !== null) continue;
    xs.local.write(path, node.v);
    // Only the guest itself and dom0 keep a permission: other ids name domains of another time.
    const perms: XsPerm[] = node.perms.flatMap((q) => {
      const id = q.id === 'self' ? domid : q.id === 0 ? 0 : -1;
      return id >= 0 && ['n', 'r', 'w', 'b'].includes(q.perm) ? [{ id, perm: q.perm as XsPerm['perm'] }] : [];
    });
    if (perms.length > 0) xs.local.setPerms(path, perms);
  }
}

/** Resolves when the domain reaches `state`, or rejects after `ms` / when it dies. */
function waitState(g: GuestDomain, state: string, ms: number): Promise<void> {
  if (g.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { done(); reject(new SaveError(`domain ${g.name} did not suspend within ${ms / 1000} s (does the guest handle control/shutdown = "suspend"?)`)); }, ms);
    const onState = (s: string): void => { if (s === state) { done(); resolve(); } };
    const onEnd = (): void => { done(); reject(new SaveError(`domain ${g.name} ended instead of suspending`)); };
    const done = (): void => { clearTimeout(timer); g.off('state', onState); g.off('end', onEnd); };
    g.on('state', onState);
    g.once('end', onEnd);
  });
}

/** Ask the guest to suspend, write FILE, then destroy the domain (or resume it with `keep`). */
export async function saveDomain(hv: HvClient, xs: Xenstored, g: GuestDomain, path: string, keep: boolean, timeoutMs = SUSPEND_TIMEOUT_MS): Promise<{ pages: number }> {
  const s = g.settings;
  if ((s.vifs ?? []).some((v) => v.model === 'ne2k_isa') || (s.emulatedDisks ?? []).length > 0 || s.console === 'uart') {
    throw new SaveError(`domain ${g.name} has emulated devices (ATA disk, NE2000, UART console), which save does not carry yet`);
  }
  await hv.call({ op: 'expect_suspend', expect_suspend: { domid: g.domid } });
  const suspended = waitState(g, 'suspended', timeoutMs);
  xs.local.write(`/local/domain/${g.domid}/control/shutdown`, 'suspend');
  try {
    await suspended;
  } catch (err) {
    xs.local.write(`/local/domain/${g.domid}/control/shutdown`, '');
    throw err;
  }
  let pages = 0;
  try {
    const r = await hv.call({ op: 'save_state', save_state: { domid: g.domid } });
    if (r.response.body !== 'saved') throw new SaveError('unexpected reply to save_state');
    const hvState = r.response.saved.state;
    const mem = await hv.call({ op: 'map_memory', map_memory: { domid: g.domid } });
    if (mem.response.body !== 'memory') throw new SaveError('bad map_memory reply');
    const memFd = mem.fds[0]!;
    const memBytes = mem.response.memory.mem_bytes;
    const map = mapShared(memFd, memBytes);
    const tmp = `${path}.tmp-${process.pid}`;
    let fd = -1;
    try {
      fd = openSync(tmp, 'w', 0o600);
      const put = (b: Uint8Array): void => { for (let o = 0; o < b.length;) o += writeSync(fd, b, o, b.length - o); };
      put(fileHeader());
      const domainJson = new TextEncoder().encode(JSON.stringify({ settings: s, uuid: g.uuid }));
      put(sectionHeader(SECTION.DOMAIN, domainJson.length)); put(domainJson);
      const xsJson = new TextEncoder().encode(JSON.stringify(readSubtree(xs, g.domid)));
      put(sectionHeader(SECTION.XENSTORE, xsJson.length)); put(xsJson);
      put(sectionHeader(SECTION.HVSTATE, hvState.length)); put(hvState);
      // Runs of non-zero pages (zero and ballooned-out pages are left out: they read as zero).
      const zero = new Uint8Array(SAVE_PAGE);
      const runs: [number, number][] = [];
      for (let p = 0; p < memBytes / SAVE_PAGE; p++) {
        if (Buffer.compare(map.bytes.subarray(p * SAVE_PAGE, (p + 1) * SAVE_PAGE), zero) === 0) continue;
        const last = runs[runs.length - 1];
        if (last !== undefined && last[0] + last[1] === p && last[1] < 4096) last[1]++;
        else runs.push([p, 1]);
        pages++;
      }
      put(sectionHeader(SECTION.MEMORY, runs.reduce((n, [, c]) => n + 16 + c * SAVE_PAGE, 0)));
      for (const [first, count] of runs) {
        put(runHeader(first, count));
        put(map.bytes.subarray(first * SAVE_PAGE, (first + count) * SAVE_PAGE));
      }
      put(sectionHeader(SECTION.END, 0));
      fsyncSync(fd);
      closeSync(fd);
      fd = -1;
      renameSync(tmp, path);
    } catch (err) {
      if (fd >= 0) closeSync(fd);
      rmSync(tmp, { force: true });
      throw err instanceof SaveError ? err : new SaveError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      libc.munmap(map.ptr, memBytes);
      libc.close(memFd);
    }
  } catch (err) {
    // The file could not be made: the guest goes on, as after `save -c`.
    await hv.call({ op: 'resume', resume: { domid: g.domid } }).catch(() => undefined);
    throw err instanceof Error && !(err instanceof SaveError) ? new SaveError(err.message) : err;
  }
  if (keep) await hv.call({ op: 'resume', resume: { domid: g.domid } });
  else await hv.call({ op: 'destroy', destroy: { domid: g.domid } });
  return { pages };
}

/** A save file opened for restore: its settings, xenstore nodes and hypervisor state, checked. */
export interface OpenedSave {
  readonly settings: DomainSettings;
  readonly hvState: Uint8Array;
  readonly xenstore: unknown;
  /** Write the saved memory into a new domain's memory file (zeroed first). */
  loadMemory(memFd: number, memBytes: number): void;
  close(): void;
}

export function openSave(path: string): OpenedSave {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new SaveFileError(`${path}: cannot open (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const size = fstatSync(fd).size;
    const read: ReadAt = (offset, length) => {
      const b = new Uint8Array(length);
      for (let o = 0; o < length;) {
        const n = readSync(fd, b, o, length - o, offset + o);
        if (n === 0) throw new SaveFileError('truncated save file');
        o += n;
      }
      return b;
    };
    const sections = readSections(size, read, size);
    const body = (type: number): Uint8Array | null => {
      const s = sections.find((x) => x.type === type);
      return s === undefined ? null : read(s.offset, s.length);
    };
    const json = (type: number, what: string): unknown => {
      const b = body(type);
      if (b === null) return null;
      try {
        return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b));
      } catch {
        throw new SaveFileError(`${what} section is not valid JSON`);
      }
    };
    const dom = json(SECTION.DOMAIN, 'DOMAIN') as { settings?: unknown } | null;
    const settings = dom?.settings as DomainSettings | undefined;
    const problem = settings === undefined ? 'missing' : settingsProblem(settings);
    if (problem !== null) throw new SaveFileError(`DOMAIN section: bad settings (${problem})`);
    const mem = sections.find((x) => x.type === SECTION.MEMORY)!;
    return {
      settings: settings!, hvState: body(SECTION.HVSTATE)!, xenstore: json(SECTION.XENSTORE, 'XENSTORE') ?? [],
      loadMemory(memFd, memBytes) {
        const map = mapShared(memFd, memBytes);
        try {
          // The new domain's memory must read as the old one did: zero everything the file leaves out.
          discardFileRange(memFd, 0, memBytes);
          forEachRun(mem, read, memBytes, (fileOffset, dataOffset, bytes) => {
            map.bytes.set(read(dataOffset, bytes), fileOffset);
          });
        } finally {
          libc.munmap(map.ptr, memBytes);
        }
      },
      close() { closeSync(fd); },
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

export { writeSubtree };
