// device-pair.ts: the toolstack's half of the PV device handshake — create and remove the
// frontend and backend directories of one device, atomically (docs/xen-abi.md §12.3, §13 step 1).
import type { XenbusPerm, XenbusStore, XenbusTx } from './store-api.ts';
import { XenbusState } from '../../../abi/io/xenbus.ts';
import { backendPath, checkDeviceId, frontendPath, type DeviceId } from './paths.ts';

export interface DevicePairSpec extends DeviceId {
  /** Extra frontend keys (relative names), e.g. vif `mac`, vbd `virtual-device`. */
  readonly frontKeys?: Readonly<Record<string, string>>;
  /** Extra backend keys, e.g. `params`, `mode`, `online`, `bridge`. */
  readonly backKeys?: Readonly<Record<string, string>>;
}

export interface DevicePaths {
  readonly frontend: string;
  readonly backend: string;
}

/** Reject a key that would escape its directory or is not a plain xenstore path. */
function checkKey(key: string): void {
  if (!/^[A-Za-z0-9_@-]+(\/[A-Za-z0-9_@-]+)*$/.test(key)) throw new RangeError(`bad xenbus key '${key}'`);
}

/**
 * Create both halves in one transaction, so neither side ever sees a half-made device.
 * Ownership as libxl sets it: the frontend directory is the guest's, readable by the backend
 * domain; the backend directory is the backend domain's, readable by the guest. Every node gets
 * its permissions explicitly rather than by inheritance, which differs between xenstoreds.
 * Throws RangeError on a bad spec and whatever the store throws (e.g. EAGAIN).
 */
export function createDevicePair(store: XenbusStore, spec: DevicePairSpec): DevicePaths {
  checkDeviceId(spec);
  const front = frontendPath(spec);
  const back = backendPath(spec);
  const frontKeys: Record<string, string> = {
    ...spec.frontKeys,
    backend: back,
    'backend-id': String(spec.backDomid),
    state: String(XenbusState.Initialising),
  };
  const backKeys: Record<string, string> = {
    ...spec.backKeys,
    frontend: front,
    'frontend-id': String(spec.frontDomid),
    state: String(XenbusState.Initialising),
  };
  for (const k of [...Object.keys(frontKeys), ...Object.keys(backKeys)]) checkKey(k);
  const frontPerms: XenbusPerm[] = [{ id: spec.frontDomid, perm: 'n' }, { id: spec.backDomid, perm: 'r' }];
  const backPerms: XenbusPerm[] = [{ id: spec.backDomid, perm: 'n' }, { id: spec.frontDomid, perm: 'r' }];

  store.transaction((tx) => {
    // A stale device with the same id (a crashed earlier run) must not leak keys into this one.
    tx.rm(front);
    tx.rm(back);
    populate(tx, front, frontKeys, frontPerms);
    populate(tx, back, backKeys, backPerms);
  });
  return { frontend: front, backend: back };
}

function populate(tx: XenbusTx, dir: string, keys: Record<string, string>, perms: XenbusPerm[]): void {
  tx.mkdir(dir);
  const nodes = new Set([dir]);
  for (const [k, v] of Object.entries(keys)) {
    tx.write(`${dir}/${k}`, v);
    // Nested keys (`queue-0/tx-ring-ref`) create intermediate nodes: they get the same owner.
    const parts = k.split('/');
    for (let i = 1; i <= parts.length; i++) nodes.add(`${dir}/${parts.slice(0, i).join('/')}`);
  }
  for (const n of nodes) tx.setPerms(n, perms);
}

/**
 * Remove both halves, and the backend's per-frontend directory once it is empty. This is the
 * last step: a live device is first closed through the state handshake (BackendDevice).
 */
export function removeDevicePair(store: XenbusStore, id: DeviceId): void {
  checkDeviceId(id);
  const back = backendPath(id);
  const perFrontend = back.slice(0, back.lastIndexOf('/'));
  store.transaction((tx) => {
    tx.rm(frontendPath(id));
    tx.rm(back);
    const left = tx.directory(perFrontend);
    if (left !== null && left.length === 0) tx.rm(perFrontend);
  });
}
