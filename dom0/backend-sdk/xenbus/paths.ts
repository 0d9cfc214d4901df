// paths.ts: where a split device's two halves live in xenstore (docs/xen-abi.md §12.3).

export interface DeviceId {
  /** Device class as xenstore spells it: `vbd`, `vif`, `console`… */
  readonly type: string;
  readonly frontDomid: number;
  readonly backDomid: number;
  /** Device number within the class (a vbd's is its virtual-device number, e.g. 51712). */
  readonly devid: number;
}

/** `/local/domain/<f>/device/<type>/<devid>` */
export function frontendPath(id: Pick<DeviceId, 'type' | 'frontDomid' | 'devid'>): string {
  return `/local/domain/${id.frontDomid}/device/${id.type}/${id.devid}`;
}

/** `/local/domain/<b>/backend/<type>/<f>/<devid>` */
export function backendPath(id: DeviceId): string {
  return `${backendTypeDir(id.backDomid, id.type)}/${id.frontDomid}/${id.devid}`;
}

/** `/local/domain/<b>/backend/<type>`: every device of one class this backend domain serves. */
export function backendTypeDir(backDomid: number, type: string): string {
  return `/local/domain/${backDomid}/backend/${type}`;
}

/** Device class names become path components: keep them to what xenstore paths allow. */
export function checkDeviceId(id: DeviceId): void {
  if (!/^[a-z][a-z0-9_-]*$/.test(id.type)) throw new RangeError(`bad xenbus device type '${id.type}'`);
  for (const [what, v] of [['frontDomid', id.frontDomid], ['backDomid', id.backDomid], ['devid', id.devid]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`bad xenbus ${what} ${v}`);
  }
  // DOMID_FIRST_RESERVED: ids from 0x7FF0 up are special (DOMID_SELF…), never a real domain.
  if (id.frontDomid >= 0x7ff0 || id.backDomid >= 0x7ff0) throw new RangeError('xenbus domid out of range');
}
