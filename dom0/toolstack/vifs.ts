// vifs.ts: the toolstack's bookkeeping of a domain's vifs — handles for hot-plug (xl's next devid),
// generated MACs for attached vifs, and the status shown for vifs the backend is not serving.
import { MAX_VIF_DEVID, MAX_VIFS, vifDevid, xenOuiMac, type VifSetting } from '../../abi/domain-settings.ts';
import type { VifStatus } from '../../abi/control.ts';

/** A vif to hot-plug: its MAC and devid may be left to the toolstack. */
export type VifRequest = Omit<VifSetting, 'mac'> & { mac?: string };

/** The list with every devid explicit, so removing one vif cannot renumber the others. */
export function explicitDevids(vifs: readonly VifSetting[]): VifSetting[] {
  return vifs.map((v, i) => ({ ...v, devid: vifDevid(v, i) }));
}

/**
 * Complete a hot-plugged vif against the domain's current ones: xl's next devid (one past the
 * highest, or the lowest free one once that runs out) and a stable MAC unless given. Returns the
 * vif or a one-line reason it cannot be added.
 */
export function completeVif(domainName: string, current: readonly VifSetting[], req: VifRequest): VifSetting | string {
  if (current.length >= MAX_VIFS) return `${domainName} already has ${MAX_VIFS} vifs`;
  const used = new Set(current.map((v, i) => vifDevid(v, i)));
  let devid = req.devid;
  if (devid !== undefined && used.has(devid)) return `${domainName} already has a vif with devid ${devid}`;
  if (devid === undefined) {
    const next = used.size === 0 ? 0 : Math.max(...used) + 1;
    devid = next <= MAX_VIF_DEVID ? next : [...Array(MAX_VIF_DEVID + 1).keys()].find((d) => !used.has(d))!;
  }
  const macs = new Set(current.map((v) => v.mac));
  if (req.mac !== undefined && macs.has(req.mac)) return `${domainName} already has a vif with mac ${req.mac}`;
  return { ...req, devid, mac: req.mac ?? xenOuiMac(domainName, devid, macs) };
}

/**
 * What `network-list` and `info` show: every configured vif, with the backend's status where it
 * serves it; a vif it does not serve (a domain adopted after a dom0 restart) says so.
 */
export function vifStatuses(domid: number, configured: readonly VifSetting[], live: readonly VifStatus[]): VifStatus[] {
  const zero = { txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0, rxPackets: 0, rxBytes: 0, rxDropped: 0 };
  const out = configured.map((v, i): VifStatus => {
    const devid = vifDevid(v, i);
    return live.find((s) => s.devid === devid)
      ?? { domid, devid, mac: v.mac, bridge: v.bridge ?? null, tap: null, state: 'NotServed', counters: zero, ...(v.model === 'ne2k_isa' ? { model: v.model } : {}) };
  });
  for (const s of live) if (!out.some((o) => o.devid === s.devid)) out.push(s);
  return out.sort((a, b) => a.devid - b.devid);
}
