// vif-spec.test.ts: xl vif specs as pvkvm reads them — every key, xl's rate grammar, the stable
// Xen-OUI MACs, and one clear line for every value pvkvm cannot honour.
import t from 'tap';
import { parseVifSpec, withMacs, type VifSpec } from '../cli/vif-spec.ts';
import { parseVifRate } from '../cli/vif-rate.ts';
import { xenOuiMac, vifProblem, settingsProblem, MAX_VIFS } from '../abi/domain-settings.ts';

const parse = (spec: string): VifSpec => parseVifSpec(spec, (msg) => { throw new RangeError(msg); });

t.test('every key pvkvm honours', async (t) => {
  t.same(parse(''), {}, 'an empty spec is a vif with the defaults');
  t.same(parse('mac=00:16:3E:74:3d:76,bridge=br0,ip=10.0.0.2,rate=100Mb/s,devid=3'),
    { mac: '00:16:3e:74:3d:76', bridge: 'br0', ip: '10.0.0.2', rateBytesPerSec: 12_500_000, devid: 3 });
  t.same(parse(' bridge = xenbr1 , , '), { bridge: 'xenbr1' }, 'spaces and stray commas, as xl');
  t.same(parse('type=vif,model=rtl8139,script=vif-bridge,backend=0,mtu=1500'), {}, "xl's keys that change nothing for a PV vif");
  t.same(parse('script=/etc/xen/scripts/vif-bridge,backend=Domain-0'), {});
  t.same(parse('rate=1MB/s@20ms'), { rateBytesPerSec: 1_000_000, rateIntervalUs: 20_000 });
});

t.test("xl's rate grammar: RATE/s[@INTERVAL]", async (t) => {
  const cases: Array<[string, number, number?]> = [
    ['100Mb/s', 12_500_000], ['10MB/s', 10_000_000], ['1Gb/s', 125_000_000], ['2GB/s', 2_000_000_000],
    ['250KB/s', 250_000], ['8Kb/s', 1000], ['1500B/s', 1500], ['16b/s', 2], ['9b/s', 1],
    ['1MB/s@20ms', 1_000_000, 20_000], ['1MB/s@500us', 1_000_000, 500], ['1MB/s@2s', 1_000_000, 2_000_000],
    ['1MB/s@1', 1_000_000, 1_000_000], // a bare interval is seconds, as libxlu_vif.c reads it
  ];
  for (const [text, bps, us] of cases) {
    t.same(parseVifRate(text), us === undefined ? { bytesPerSec: bps } : { bytesPerSec: bps, intervalUs: us }, text);
  }
  const bad: Array<[string, RegExp]> = [
    ['100', /expected RATE\/s/], ['100Mb', /expected RATE\/s/], ['100mb/s', /expected RATE\/s/], ['100Mbit/s', /expected RATE\/s/],
    ['1.5MB/s', /expected RATE\/s/], ['-1MB/s', /expected RATE\/s/], ['0MB/s', /1\.\.4294967295/], ['4294967296B/s', /1\.\.4294967295/],
    ['7b/s', /less than one byte/], ['1MB/s@', /bad rate interval/], ['1MB/s@20min', /bad rate interval/], ['1MB/s@0ms', /must be 1 us/],
    ['1MB/s@5000s', /must be 1 us/], ['@20ms', /expected RATE\/s/],
  ];
  for (const [text, re] of bad) {
    const r = parseVifRate(text);
    t.type(r, 'string', text);
    t.match(r, re, text);
    t.notMatch(r, /\n/, 'one line');
  }
});

t.test('bad values: one clear line naming what and why', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['bridge', /expected key=value, got 'bridge'/],
    ['mac=00:16:3e:00:00', /bad mac '00:16:3e:00:00'/],
    ['mac=01:16:3e:00:00:00', /multicast/],
    ['mac=00:16:3e:00:00:01,mac=00:16:3e:00:00:02', /mac given twice/],
    ['bridge=this-name-is-too-long', /bad bridge name/],
    ['bridge=a b', /bad bridge name/],
    ['ip=10.0.0.256', /bad ip/],
    ['ip=10.0.0.2 10.0.0.3', /only one address/],
    ['ip=fe80::1', /bad ip .*IPv4/],
    ['rate=fast', /bad rate 'fast'/],
    ['devid=256', /devid must be 0\.\.255/],
    ['devid=x', /devid must be/],
    ['type=ioemu', /type 'ioemu' is not supported \(only type=vif/],
    ['script=vif-route', /script 'vif-route' is not supported/],
    ['backend=1', /backend '1' is not supported.*driver domains/],
    ['mtu=9000', /mtu '9000' is not supported \(only 1500\)/],
    ['vifname=eth7', /vifname is not supported: the TAP device is always named vifDOMID\.DEVID/],
    ['gatewaydev=eth0', /gatewaydev is not supported.*vif-route/],
    ['accel=x', /accel is not supported/],
    ['frob=1', /unknown key 'frob' \(pvkvm knows: mac, bridge/],
    ['model=', /bad model/],
  ];
  for (const [spec, re] of bad) {
    t.throws(() => parse(spec), re, spec);
    try { parse(spec); } catch (e) { t.notMatch((e as Error).message, /\n/, `${spec}: one line`); }
  }
});

t.test('generated MACs: Xen OUI, unicast, stable per name and devid, unique in the domain', async (t) => {
  const m = xenOuiMac('web', 0);
  t.match(m, /^00:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
  t.equal(parseInt(m.slice(0, 2), 16) & 3, 0, 'unicast, globally administered (the OUI)');
  t.equal(xenOuiMac('web', 0), m, 'stable');
  t.not(xenOuiMac('web', 1), m, 'differs by devid');
  t.not(xenOuiMac('db', 0), m, 'differs by name');
  t.not(xenOuiMac('web', 0, new Set([m])), m, 'a taken MAC is skipped');
  t.equal(vifProblem({ mac: m }), null, 'what the toolstack accepts');

  const vifs = withMacs('web', [{}, { mac: m }, { bridge: 'br0' }], (i, msg) => { throw new Error(`${i}: ${msg}`); });
  t.equal(vifs[1]!.mac, m);
  t.equal(new Set(vifs.map((v) => v.mac)).size, 3, 'vif 0 would have hashed to the MAC vif 1 states: it gets another');
  t.equal(vifs[2]!.mac, xenOuiMac('web', 2));
  t.throws(() => withMacs('web', [{ mac: m }, { mac: m }], (i, msg) => { throw new Error(`${i}: ${msg}`); }), /1: mac .* is already used/);
  t.throws(() => withMacs('web', [{ devid: 1 }, {}], (i, msg) => { throw new Error(`${i}: ${msg}`); }), /1: devid 1 is already used by vif 0/);
});

t.test('the toolstack side checks vifs from the socket', async (t) => {
  const base = { name: 'g', kernel: '/k', cmdline: '', memoryMiB: 32, vcpus: 1, modules: [], onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy' };
  const ok = { mac: '00:16:3e:00:00:01' };
  t.equal(settingsProblem({ ...base, vifs: [ok, { mac: '00:16:3e:00:00:02', devid: 5, bridge: 'br0', ip: '1.2.3.4', rateBytesPerSec: 1, rateIntervalUs: 1 }] }), null);
  const bad: Array<[unknown, RegExp]> = [
    ['nope', /list/], [[null], /object/], [[[]], /object/], [[{}], /bad vif mac/], [[{ mac: 'AA:16:3e:00:00:01' }], /lower case/],
    [[{ ...ok, extra: 1 }], /unknown vif field 'extra'/], [[{ ...ok, devid: -1 }], /devid/], [[{ ...ok, devid: 1.5 }], /devid/],
    [[{ ...ok, bridge: 'x'.repeat(16) }], /bridge/], [[{ ...ok, ip: '1.2.3' }], /ip/], [[{ ...ok, rateBytesPerSec: 0 }], /rate/],
    [[{ ...ok, rateBytesPerSec: 2 ** 60 }], /rate/], [[{ ...ok, rateBytesPerSec: 1, rateIntervalUs: 0 }], /interval/],
    [[{ ...ok, rateIntervalUs: 5 }], /needs a rate/], [[ok, ok], /two vifs have mac/],
    [[ok, { mac: '00:16:3e:00:00:02', devid: 0 }], /two vifs have devid 0/],
    [Array.from({ length: MAX_VIFS + 1 }, (_, i) => ({ mac: `00:16:3e:00:00:${i.toString(16).padStart(2, '0')}` })), /at most 8/],
  ];
  for (const [vifs, re] of bad) t.match(settingsProblem({ ...base, vifs }), re, JSON.stringify(vifs).slice(0, 60));
  t.equal(vifProblem({}, { macOptional: true }), null, 'network-attach may leave the MAC to the toolstack');
  t.match(vifProblem({ mac: 5 }, { macOptional: true }), /bad vif mac/);
});

t.test('model=ne2k_isa selects the emulated NE2000; ne2k_pci is refused with a reason', async (t) => {
  const { parseVifSpec } = await import('../cli/vif-spec.ts');
  const p = (s: string) => parseVifSpec(s, (m) => { throw new Error(m); });
  t.same(p('model=ne2k_isa,mac=00:16:3e:00:00:01'), { model: 'ne2k_isa', mac: '00:16:3e:00:00:01' });
  t.throws(() => p('model=ne2k_pci'), /ne2k_pci is not supported: pvkvm emulates no PCI bus/);
  const { vifsProblem } = await import('../abi/domain-settings.ts');
  t.match(vifsProblem([{ mac: '00:16:3e:00:00:01', model: 'ne2k_isa', bridge: 'br0' }]), /internal switch only/);
  t.equal(vifsProblem([{ mac: '00:16:3e:00:00:01', model: 'ne2k_isa' }]), null);
});
