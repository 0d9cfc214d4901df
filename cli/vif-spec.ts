// vif-spec.ts: xl's vif spec (xl-network-configuration(5)) — 'mac=…,bridge=…,ip=…,rate=…' — as
// pvkvm honours it, shared by config files, `pvkvm run --vif` and `pvkvm network-attach`.
import { MAX_VIF_DEVID, xenOuiMac, vifDevid, type VifSetting } from '../abi/domain-settings.ts';
import { parseVifRate } from './vif-rate.ts';

/** A parsed spec: a VifSetting whose MAC may still be missing (see withMacs). */
export type VifSpec = Omit<VifSetting, 'mac'> & { mac?: string };

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/; // a Linux interface name (IFNAMSIZ − 1)
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** The keys pvkvm acts on, and those xl knows that only matter elsewhere (each says why). */
const HONOURED = ['mac', 'bridge', 'ip', 'rate', 'devid', 'type', 'model', 'script', 'backend', 'mtu'];
const REFUSED: Record<string, string> = {
  vifname: 'the TAP device is always named vifDOMID.DEVID',
  gatewaydev: 'it is only used by the vif-route script, which pvkvm does not run',
  netdev: 'it is only used by the vif-route script, which pvkvm does not run',
  forwarddev: 'it is only used by the vif-route script, which pvkvm does not run',
  accel: 'xl ignores it too (obsolete)',
};

/** Show user text in a one-line message: quoted and cut short. */
function show(s: string): string {
  const cut = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  return `'${JSON.stringify(cut).slice(1, -1)}'`;
}

/**
 * Parse one vif spec. `bad` gets one line without a prefix (the caller adds "vif N: " or the file
 * and line); every key given twice, every value pvkvm cannot honour, is refused rather than ignored.
 */
export function parseVifSpec(spec: string, bad: (msg: string) => never): VifSpec {
  const out: { -readonly [K in keyof VifSpec]: VifSpec[K] } = {};
  const seen = new Set<string>();
  for (const raw of spec.split(',')) {
    const p = raw.trim();
    if (p === '') continue; // xl allows '' (all defaults) and stray commas
    const eq = p.indexOf('=');
    if (eq < 0) bad(`expected key=value, got ${show(p)}`);
    const k = p.slice(0, eq).trim();
    const v = p.slice(eq + 1).trim();
    if (k in REFUSED) bad(`${k} is not supported: ${REFUSED[k]}`);
    if (!HONOURED.includes(k)) bad(`unknown key ${show(k)} (pvkvm knows: ${HONOURED.join(', ')})`);
    if (seen.has(k)) bad(`${k} given twice`);
    seen.add(k);
    switch (k) {
      case 'mac':
        if (!MAC.test(v)) bad(`bad mac ${show(v)} (expected six hex octets, e.g. 00:16:3e:12:34:56)`);
        // The I/G bit: a multicast source address would be dropped by every switch.
        if (parseInt(v.slice(0, 2), 16) & 1) bad(`mac ${show(v)} is a multicast address`);
        out.mac = v.toLowerCase();
        break;
      case 'bridge':
        if (!IFNAME.test(v)) bad(`bad bridge name ${show(v)} (1-15 letters, digits, '.', '_' or '-')`);
        out.bridge = v;
        break;
      case 'ip':
        // xl passes a space-separated list to its hotplug script; netback publishes one address.
        if (/\s/.test(v)) bad(`ip ${show(v)}: only one address is supported`);
        if (!IPV4.test(v)) bad(`bad ip ${show(v)} (expected an IPv4 address such as 10.0.0.2)`);
        out.ip = v;
        break;
      case 'rate': {
        const r = parseVifRate(v);
        if (typeof r === 'string') bad(r);
        out.rateBytesPerSec = r.bytesPerSec;
        if (r.intervalUs !== undefined) out.rateIntervalUs = r.intervalUs;
        break;
      }
      case 'devid':
        if (!/^\d{1,3}$/.test(v) || Number(v) > MAX_VIF_DEVID) bad(`devid must be 0..${MAX_VIF_DEVID} (got ${show(v)})`);
        out.devid = Number(v);
        break;
      case 'type':
        // xl's default for HVM is ioemu (an emulated NIC besides the PV one); PVH guests get PV only.
        if (v !== 'vif') bad(`type ${show(v)} is not supported (only type=vif; model=ne2k_isa selects the emulated NIC)`);
        break;
      case 'model':
        // xl: "valid for HVM guest devices with type=ioemu only"; a PV vif has no model, so xl
        // ignores it for PVH guests and so does pvkvm.
        // pvkvm: model=ne2k_isa selects the emulated NE2000 (the full-virtualization comparator)
        // instead of the PV NIC. ne2k_pci (and e1000, rtl8139…) would need a PCI bus pvkvm does not emulate.
        if (v === 'ne2k_isa') out.model = 'ne2k_isa';
        else if (v === 'ne2k_pci') bad('model ne2k_pci is not supported: pvkvm emulates no PCI bus; use model=ne2k_isa (ISA 0x300, IRQ 9)');
        // Any other model is ignored for a PV vif, as xl ignores model= outside type=ioemu.
        else if (!/^[A-Za-z0-9_.-]{1,32}$/.test(v)) bad(`bad model ${show(v)}`);
        break;
      case 'script':
        // pvkvm joins the TAP device to the bridge itself, which is what xl's default script does.
        if (!/^(?:.*\/)?vif-bridge$/.test(v)) bad(`script ${show(v)} is not supported (pvkvm runs no hotplug scripts; it does what vif-bridge does itself)`);
        break;
      case 'backend':
        if (v !== '0' && v !== 'Domain-0') bad(`backend ${show(v)} is not supported (only dom0: no driver domains)`);
        break;
      case 'mtu':
        if (v !== '1500') bad(`mtu ${show(v)} is not supported (only 1500)`);
        break;
    }
  }
  return out;
}

/**
 * Give every vif without a MAC a stable Xen-OUI one (xenOuiMac), unique within the domain, and
 * refuse two vifs with the same MAC or devid. `bad(index, msg)` reports one line.
 */
export function withMacs(domainName: string, specs: readonly VifSpec[], bad: (index: number, msg: string) => never): VifSetting[] {
  const taken = new Set<string>();
  const devids = new Map<number, number>();
  specs.forEach((s, i) => {
    if (s.mac !== undefined) {
      if (taken.has(s.mac)) bad(i, `mac ${s.mac} is already used by another vif`);
      taken.add(s.mac);
    }
    const devid = vifDevid({ ...s, mac: '' }, i);
    const prev = devids.get(devid);
    if (prev !== undefined) bad(i, `devid ${devid} is already used by vif ${prev}`);
    devids.set(devid, i);
  });
  return specs.map((s, i) => {
    if (s.mac !== undefined) return { ...s, mac: s.mac };
    const mac = xenOuiMac(domainName, vifDevid({ ...s, mac: '' }, i), taken);
    taken.add(mac);
    return { ...s, mac };
  });
}
