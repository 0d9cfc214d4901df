// cli-network.test.ts: the network commands (network-attach, -detach, -list, info's vifs, create
// with vif lines) against a toolstack on a fake hypervisor with a recording NetBackend, their
// --help, one-line errors, and the control ops fed hostile fields over the raw socket.
import t, { type Test } from 'tap';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeDom0, type FakeDom0 } from './helpers/fake-dom0.ts';
import { pvkvm, type RunResult } from './helpers/run-guest.ts';
import { runDirPath } from '../abi/run-dir.ts';
import { xenOuiMac } from '../abi/domain-settings.ts';
import { EXIT } from '../cli/exit-codes.ts';

const cli = (d: FakeDom0, args: string[]): Promise<RunResult> => pvkvm(args, { env: { PVKVM_RUN_DIR: d.runDir } });

function oneLine(t: Test, r: RunResult, re: RegExp): void {
  t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  t.match(r.stderr, re);
}

async function withDomain(t: Test, net = true): Promise<FakeDom0> {
  const d = await fakeDom0({ net });
  t.teardown(() => d.close());
  const kernel = join(d.runDir, 'k.elf');
  writeFileSync(kernel, 'fake');
  writeFileSync(join(d.runDir, 'g.cfg'), `name = "g"\nkernel = "${kernel}"\nmemory = 32\nvif = [ 'bridge=br0,ip=10.0.0.2,rate=100Mb/s', '' ]\n`);
  return d;
}

t.test('--help for each command', async (t) => {
  for (const cmd of ['network-attach', 'network-detach', 'network-list']) {
    const r = await pvkvm([cmd, '--help']);
    t.equal(r.code, 0, cmd);
    t.match(r.stdout, new RegExp(`^Usage: pvkvm ${cmd} DOMAIN`));
  }
  t.match((await pvkvm(['network-attach', '--help'])).stdout, /rate=RATE\/s\[@INTERVAL\]/);
  t.match((await pvkvm(['--help'])).stdout, /network-attach DOMAIN \[SPEC\]/);
  t.match((await pvkvm(['run', '--help'])).stdout, /--vif SPEC/);
});

t.test('create with vif lines, network-list, info, attach, detach', async (t) => {
  const d = await withDomain(t);
  const created = await cli(d, ['create', join(d.runDir, 'g.cfg')]);
  t.equal(created.code, 0, created.stderr);
  const domid = d.ts.find('g').domid;
  t.same(d.net!.calls.map((c) => [c[0], c[2], c[3]?.mac]), [['addVif', 0, xenOuiMac('g', 0)], ['addVif', 1, xenOuiMac('g', 1)]]);
  t.match(d.net!.calls[0]![3], { bridge: 'br0', ip: '10.0.0.2', rateBytesPerSec: 12_500_000 });

  const list = await cli(d, ['network-list', 'g']);
  t.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trimEnd().split('\n');
  t.match(lines[0], /^Idx +BE +Mac Addr\. +handle +state +tap +bridge +BE-path$/);
  t.match(lines[1], new RegExp(`^${domid} +0 +${xenOuiMac('g', 0)} +0 +Connected +vif${domid}\\.0 +br0 +/local/domain/0/backend/vif/${domid}/0$`));
  t.match(lines[2], new RegExp(`^${domid} +0 +${xenOuiMac('g', 1)} +1 +Connected +vif${domid}\\.1 +\\(internal\\) `));
  const json = JSON.parse((await cli(d, ['network-list', 'g', String(domid), '--json'])).stdout) as unknown[];
  t.equal(json.length, 4, 'two domains named: their vifs in order');
  t.match(json[0], { domid, devid: 0, state: 'Connected', counters: { txPackets: 3, rxBytes: 120 } });

  const info = JSON.parse((await cli(d, ['info', 'g'])).stdout) as { vifs: unknown[] };
  t.match(info.vifs, [{ devid: 0, mac: xenOuiMac('g', 0), tap: `vif${domid}.0`, bridge: 'br0', counters: { txBytes: 180, rxDropped: 1 } }, { devid: 1 }]);

  const att = await cli(d, ['network-attach', 'g', 'bridge=br1', 'mac=00:16:3E:00:00:42']);
  t.equal(att.code, 0, att.stderr);
  t.equal(att.stdout, 'domain g: attached vif 2 (mac 00:16:3e:00:00:42, bridge br1)\n', "xl's separate key=value arguments");
  const att2 = await cli(d, ['network-attach', String(domid)]);
  t.equal(att2.stdout, `domain ${domid}: attached vif 3 (mac ${xenOuiMac('g', 3)})\n`, 'no spec: all defaults');
  t.equal((await cli(d, ['network-detach', 'g', '00:16:3E:00:00:42'])).stdout, 'domain g: detached vif 2 (mac 00:16:3e:00:00:42)\n');
  t.equal((await cli(d, ['network-detach', 'g', '1'])).code, 0);
  t.same(d.ts.vifs(d.ts.find('g')).map((v) => v.devid), [0, 3]);
  t.same(d.net!.calls.filter((c) => c[0] === 'removeVif').map((c) => c[2]), [2, 1]);
});

t.test('one-line errors', async (t) => {
  const d = await withDomain(t);
  t.equal((await cli(d, ['create', join(d.runDir, 'g.cfg')])).code, 0);
  const usage: Array<[string[], RegExp]> = [
    [['network-attach'], /expected DOMAIN \[SPEC\]/],
    [['network-attach', 'g', 'type=ioemu'], /^pvkvm: network-attach: type 'ioemu' is not supported/],
    [['network-attach', 'g', 'rate=1'], /bad rate '1'/],
    [['network-detach', 'g'], /expected DOMAIN and DEVID or MAC/],
    [['network-detach', 'g', 'eth0'], /'eth0' is neither a devid nor a MAC/],
    [['network-detach', 'g', '999'], /devid must be 0\.\.255/],
    [['network-list'], /at least one DOMAIN/],
    [['network-list', 'g', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, re] of usage) {
    const r = await cli(d, args);
    t.equal(r.code, EXIT.usage, args.join(' '));
    oneLine(t, r, re);
  }
  const refused: Array<[string[], string]> = [
    [['network-detach', 'g', '7'], 'pvkvm: domain g has no vif with devid 7'],
    [['network-attach', 'g', 'devid=0'], 'pvkvm: g already has a vif with devid 0'],
    [['network-list', 'nosuch'], "pvkvm: no domain 'nosuch'"],
  ];
  for (const [args, msg] of refused) {
    const r = await cli(d, args);
    t.equal(r.code, EXIT.error, args.join(' '));
    t.equal(r.stderr.trim(), msg);
  }
  const cfg = join(d.runDir, 'bad.cfg');
  writeFileSync(cfg, `name = "b"\nkernel = "/k"\nvif = [ '',\n  'bridge=br0,script=vif-nat' ]\n`);
  const bad = await cli(d, ['create', cfg]);
  t.equal(bad.code, 1);
  t.equal(bad.stderr.trim(), `pvkvm: ${cfg}:4: vif 1: script 'vif-nat' is not supported (pvkvm runs no hotplug scripts; it does what vif-bridge does itself)`);
});

t.test('a dom0 without a network backend says so', async (t) => {
  const d = await withDomain(t, false);
  const r = await cli(d, ['create', join(d.runDir, 'g.cfg')]);
  t.equal(r.code, 1);
  t.equal(r.stderr.trim(), 'pvkvm: this dom0 has no network backend');
});

/**
 * Send raw requests to the control socket, each object with its index as id (replies come as
 * requests finish); returns the replies in request order (malformed lines get id-less replies).
 */
async function raw(d: FakeDom0, reqs: unknown[]): Promise<Array<Record<string, unknown>>> {
  const lines = reqs.map((r, i) => (typeof r === 'object' && r !== null && !Array.isArray(r) ? JSON.stringify({ id: i, ...r }) : JSON.stringify(r)));
  const sock = connect(runDirPath(d.runDir, 'controlSocket'));
  await new Promise((r) => sock.once('connect', r));
  const replies: Array<Record<string, unknown>> = [];
  let buf = '';
  const done = new Promise<void>((resolve) => {
    sock.on('data', (c) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        replies.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
      if (replies.length === lines.length) resolve();
    });
  });
  sock.write(lines.map((l) => `${l}\n`).join(''));
  await done;
  sock.destroy();
  const anonymous = replies.filter((r) => r.id === undefined);
  return reqs.map((_, i) => replies.find((r) => r.id === i) ?? anonymous.shift()!);
}

t.test('control ops refuse hostile fields with one line, and dom0 stays up', async (t) => {
  const d = await withDomain(t);
  await d.ts.create({ name: 'h', kernel: join(d.runDir, 'k.elf'), cmdline: '', memoryMiB: 32, vcpus: 1, modules: [], onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy' });
  const cases: Array<[unknown, RegExp]> = [
    [null, /malformed request/], [5, /malformed request/], [[], /malformed request/], ['network-list', /malformed request/],
    [{ op: 'network-attach', domain: 'h' }, /each vif must be an object/],
    [{ op: 'network-attach', domain: 'h', vif: 'mac=00:16:3e:00:00:01' }, /each vif must be an object/],
    [{ op: 'network-attach', domain: 'h', vif: [] }, /each vif must be an object/],
    [{ op: 'network-attach', domain: 'h', vif: { mac: '00:16:3E:00:00:01' } }, /lower case/],
    [{ op: 'network-attach', domain: 'h', vif: { mac: 7 } }, /bad vif mac/],
    [{ op: 'network-attach', domain: 'h', vif: { bridge: '../../etc' } }, /bad bridge name/],
    [{ op: 'network-attach', domain: 'h', vif: { bridge: 'br0; rm -rf /' } }, /bad bridge name/],
    [{ op: 'network-attach', domain: 'h', vif: { ip: { a: 1 } } }, /bad vif ip/],
    [{ op: 'network-attach', domain: 'h', vif: { devid: 1e9 } }, /devid must be 0\.\.255/],
    [{ op: 'network-attach', domain: 'h', vif: { devid: '1' } }, /devid must be/],
    [{ op: 'network-attach', domain: 'h', vif: { rateBytesPerSec: -5 } }, /rate/],
    [{ op: 'network-attach', domain: 'h', vif: { tap: 'eth0' } }, /unknown vif field 'tap'/],
    [{ op: 'network-attach', domain: 'h', vif: JSON.parse('{"__proto__": {"mac": "x"}}') as unknown }, /unknown vif field '__proto__'/],
    [{ op: 'network-attach', domain: { toString: 1 }, vif: {} }, /domain must be a name or an id/],
    [{ op: 'network-detach', domain: 'h' }, /needs a devid or a mac/],
    [{ op: 'network-detach', domain: 'h', devid: 0, mac: '00:16:3e:00:00:01' }, /needs a devid or a mac/],
    [{ op: 'network-detach', domain: 'h', devid: -1 }, /devid must be/],
    [{ op: 'network-detach', domain: 'h', devid: '0' }, /devid must be/],
    [{ op: 'network-detach', domain: 'h', devid: 0.5 }, /devid must be/],
    [{ op: 'network-detach', domain: 'h', mac: 'AA:BB:CC:DD:EE:FF' }, /lower case/],
    [{ op: 'network-detach', domain: 'h', mac: ['00:16:3e:00:00:01'] }, /lower case/],
    [{ op: 'network-detach', domain: 'h', devid: 0 }, /domain h has no vif with devid 0/],
    [{ op: 'network-list', domain: ['h'] }, /domain must be a name or an id/],
    [{ op: 'info', domain: 1.5 }, /domain must be a name or an id/],
    [{ op: 'network-list' }, /no domain ''/],
    [{ op: 'network-frob', domain: 'h' }, /unknown request/],
  ];
  const replies = await raw(d, cases.map(([c]) => c));
  for (const [i, [req, re]] of cases.entries()) {
    const r = replies[i]!;
    t.equal(r.ok, false, JSON.stringify(req));
    t.match(r.error, re, JSON.stringify(req));
    t.notMatch(String(r.error), /\n/, 'one line');
  }
  t.same(d.net!.calls, [], 'nothing reached the backend');
  const ok = await raw(d, [{ op: 'network-attach', domain: 'h', vif: {} }, { op: 'ping' }]);
  t.match(ok, [{ ok: true, result: { devid: 0, mac: xenOuiMac('h', 0) } }, { ok: true }], 'still serving');
});
