// third-party-backends.ts: device backends dom0 loads from configuration — RUN_DIR/backends.json,
// written by `pvkvm up --backend TYPE=MODULE`: each entry a module (which imports the SDK as
// 'pvkvm/backend-sdk') and the xenbus device type it serves (docs/backend-sdk.md).
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BackendContext } from './backend-sdk/context.ts';

export const BACKENDS_FILE = 'backends.json';

/** One configured backend. */
export interface BackendEntry {
  /** The xenbus device type (backend/TYPE/…), e.g. "vtpm". */
  readonly type: string;
  /** Absolute path of an ES module. */
  readonly module: string;
}

/** What the module's `start` answers: how to stop it (dom0 calls it when it stops). */
export interface LoadedBackend {
  close?(): void | Promise<void>;
}

/** The module's contract: `export function start(ctx, { type, backDomid, log })`. */
export type BackendStart = (ctx: BackendContext, opts: { type: string; backDomid: number; log: (line: string) => void }) =>
  LoadedBackend | (() => void) | void | Promise<LoadedBackend | (() => void) | void>;

/** Types dom0's own backends serve: a third-party module may not take them over. */
const BUILTIN = new Set(['vbd', 'vif', 'console']);

/** The entries of a backends.json text, or a one-line reason it is unusable. */
export function parseBackends(text: string): BackendEntry[] | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!Array.isArray(json) || json.length > 64) return 'must be a list of at most 64 {type, module} entries';
  const types = new Set<string>();
  for (const e of json as unknown[]) {
    if (typeof e !== 'object' || e === null) return 'each entry must be an object {type, module}';
    const { type, module } = e as Record<string, unknown>;
    if (typeof type !== 'string' || !/^[a-z][a-z0-9_-]{0,31}$/.test(type)) return `bad device type '${String(type).slice(0, 40)}'`;
    if (BUILTIN.has(type)) return `device type '${type}' is dom0's own`;
    if (types.has(type)) return `device type '${type}' given twice`;
    types.add(type);
    if (typeof module !== 'string' || !isAbsolute(module)) return `backend '${type}': module must be an absolute path`;
  }
  return json as BackendEntry[];
}

/**
 * Load and start every configured backend. A missing file means none; a broken entry or module
 * is logged and skipped, so one bad third-party backend does not keep dom0 down.
 */
export async function loadBackends(runDir: string, ctx: BackendContext, log: (line: string) => void): Promise<Array<() => Promise<void>>> {
  let text: string;
  try {
    text = readFileSync(join(runDir, BACKENDS_FILE), 'utf8');
  } catch {
    return [];
  }
  const entries = parseBackends(text);
  if (typeof entries === 'string') {
    log(`${BACKENDS_FILE}: ${entries}; no third-party backends loaded`);
    return [];
  }
  const stops: Array<() => Promise<void>> = [];
  for (const e of entries) {
    try {
      const mod = (await import(pathToFileURL(e.module).href)) as { start?: unknown; default?: unknown };
      const start = (typeof mod.start === 'function' ? mod.start : mod.default) as BackendStart | undefined;
      if (typeof start !== 'function') throw new Error('it exports no start(ctx, opts) function');
      const prefix = `backend ${e.type}: `;
      const r = await start(ctx, { type: e.type, backDomid: 0, log: (l) => log(`${prefix}${l}`) });
      const close = typeof r === 'function' ? r : r?.close?.bind(r);
      stops.push(async () => {
        try {
          await close?.();
        } catch (err) {
          log(`${prefix}stopping: ${(err as Error).message}`);
        }
      });
      log(`loaded backend for '${e.type}' from ${e.module}`);
    } catch (err) {
      log(`cannot load the backend for '${e.type}' from ${e.module}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return stops;
}
