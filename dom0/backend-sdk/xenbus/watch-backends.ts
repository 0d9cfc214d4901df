// watch-backends.ts: tell a backend driver when devices of its class appear in or vanish from
// `/local/domain/<b>/backend/<type>/<fdomid>/<devid>` (as Linux's xenbus backend bus does).
import type { XenbusStore } from './store-api.ts';
import { backendTypeDir } from './paths.ts';

export type BackendDeviceCallback = (frontDomid: number, devid: number, backendPath: string) => void;

/** Decimal without leading zeros, so that "07" and "7" cannot name the same device twice. */
const DECIMAL = /^(?:0|[1-9][0-9]{0,9})$/;
/** DOMID_FIRST_RESERVED: ids from here up are never real domains. */
const DOMID_LIMIT = 0x7ff0;

/**
 * Watch the class directory and report each device once when it appears and once when it goes.
 * Every watch event rescans the whole class (events do not say what changed reliably once they
 * coalesce); a device counts as present once its `state` node exists, so a writer that builds
 * the directory without a transaction is not reported half-made. Names that are not decimal
 * ids are ignored. Existing devices are reported straight away (the watch fires on
 * registration). Returns a function that stops watching.
 */
export function watchBackends(
  store: XenbusStore,
  backDomid: number,
  type: string,
  onNew: BackendDeviceCallback,
  onGone: BackendDeviceCallback,
): () => void {
  const base = backendTypeDir(backDomid, type);
  const known = new Map<string, { f: number; d: number }>();
  let stopped = false;

  const scan = (): void => {
    if (stopped) return;
    const present = new Map<string, { f: number; d: number }>();
    for (const f of store.directory(base) ?? []) {
      if (!DECIMAL.test(f) || Number(f) >= DOMID_LIMIT) continue;
      for (const d of store.directory(`${base}/${f}`) ?? []) {
        if (!DECIMAL.test(d) || store.read(`${base}/${f}/${d}/state`) === null) continue;
        present.set(`${f}/${d}`, { f: Number(f), d: Number(d) });
      }
    }
    const gone = [...known].filter(([k]) => !present.has(k));
    const added = [...present].filter(([k]) => !known.has(k));
    // Update first: a callback may throw, or trigger a nested scan through a synchronous store.
    for (const [k] of gone) known.delete(k);
    for (const [k, v] of added) known.set(k, v);
    for (const [k, v] of gone) onGone(v.f, v.d, `${base}/${k}`);
    for (const [k, v] of added) onNew(v.f, v.d, `${base}/${k}`);
  };

  const unwatch = store.watch(base, scan);
  return () => {
    stopped = true;
    unwatch();
  };
}
