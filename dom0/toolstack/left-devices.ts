// left-devices.ts: the disks and vifs a dead dom0 left in the store for an adopted domain — read
// back from their backend directories (params/mode/dev, mac/bridge/ip/rate), so a new dom0 can
// serve them again. The backend directories are dom0's own nodes; the domain's settings record,
// when it has the device, gives the exact values (a rate as configured, not as rounded).
import { MAX_VIF_DEVID, vifDevid, type DiskSetting, type VifSetting } from '../../abi/domain-settings.ts';
import { NETIF_XS_KEY } from '../../abi/io/netif.ts';
import { vdevToDevid } from '../blkback/vdev.ts';
import type { XsLocal } from '../xenstore/xenstored.ts';

const K = NETIF_XS_KEY.values;
const DECIMAL = /^(?:0|[1-9][0-9]{0,9})$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export interface LeftDevices {
  readonly disks: DiskSetting[];
  readonly vifs: { devid: number; vif: VifSetting }[];
  /** Directories that could not be read back, with why (logged, left alone). */
  readonly skipped: string[];
}

export function leftDevices(xs: XsLocal, domid: number, known: { disks?: readonly DiskSetting[]; vifs?: readonly VifSetting[] }): LeftDevices {
  const out: LeftDevices = { disks: [], vifs: [], skipped: [] };
  const vbds = `/local/domain/0/backend/vbd/${domid}`;
  for (const id of xs.directory(vbds) ?? []) {
    const be = `${vbds}/${id}`;
    const target = xs.read(`${be}/params`), vdev = xs.read(`${be}/dev`), mode = xs.read(`${be}/mode`);
    let devid = -1;
    try {
      devid = vdev === null ? -1 : vdevToDevid(vdev);
    } catch {
      // not a disk name: skipped below
    }
    if (!DECIMAL.test(id) || target === null || target === '' || vdev === null || devid !== Number(id)) {
      out.skipped.push(`${be}: no usable params/dev`);
      continue;
    }
    const setting = known.disks?.find((d) => d.vdev === vdev);
    out.disks.push(setting ?? { target, vdev, access: mode === 'w' ? 'rw' : 'ro' });
  }
  const vifs = `/local/domain/0/backend/vif/${domid}`;
  for (const id of xs.directory(vifs) ?? []) {
    const be = `${vifs}/${id}`;
    const mac = xs.read(`${be}/${K.MAC}`);
    if (!DECIMAL.test(id) || Number(id) > MAX_VIF_DEVID || mac === null || !MAC_RE.test(mac)) {
      out.skipped.push(`${be}: no usable mac`);
      continue;
    }
    const devid = Number(id);
    const setting = known.vifs?.find((v, i) => v.model !== 'ne2k_isa' && vifDevid(v, i) === devid);
    out.vifs.push({ devid, vif: setting ?? fromStore(xs, be, mac, devid) });
  }
  return out;
}

/** A vif rebuilt from its backend keys only (no settings record): mac, bridge, ip and rate. */
function fromStore(xs: XsLocal, be: string, mac: string, devid: number): VifSetting {
  const bridge = xs.read(`${be}/${K.BRIDGE}`) ?? undefined;
  const ip = xs.read(`${be}/${K.IP}`) ?? undefined;
  // libxl's form: bytes per interval, interval in microseconds.
  const rate = /^([1-9][0-9]{0,12}),([1-9][0-9]{0,9})$/.exec(xs.read(`${be}/${K.RATE}`) ?? '');
  const rateIntervalUs = rate === null ? undefined : Number(rate[2]);
  const rateBytesPerSec = rate === null ? undefined : Math.round((Number(rate[1]) * 1e6) / rateIntervalUs!);
  return { mac, devid, bridge, ip, rateBytesPerSec, rateIntervalUs };
}
