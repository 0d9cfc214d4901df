// net-guests.test.ts: the PV network end to end — SDK `network` guests (netfront + the SDK's
// stack) on dom0's internal switch (netback): pings through ARP, UDP echo (also in netfront's poll mode), 100,000 paced UDP
// datagrams with none lost, an unpaced flood whose loss is reported consistently, a vif
// hot-plugged after boot, and a vif unplugged under a running guest. No timing thresholds: rates
// are only workload parameters.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually, type TestDaemons } from './helpers/daemons.ts';
import { guestPath, type RunResult } from './helpers/run-guest.ts';

/** A domain config for the network guest: its name, command line, and vif specs. */
function netConfig(d: TestDaemons, name: string, cmdline: string, vifs: string[] = ['']): string {
  const lines = [`name = "${name}"`, `kernel = "${guestPath('network')}"`, 'memory = 32', `cmdline = "${cmdline}"`];
  if (vifs.length) lines.push(`vif = [ ${vifs.map((v) => `'${v}'`).join(', ')} ]`);
  const file = join(d.runDir, `${name}.cfg`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Create a domain with its console attached: resolves when it ends, with everything it printed. */
function runDomain(d: TestDaemons, cfg: string, killAfterMs = 300_000): Promise<RunResult> {
  return d.cli(['create', cfg, '-c'], killAfterMs);
}

const result = (r: RunResult): string | undefined => /Test result: (\w+)/.exec(r.stdout)?.[1];

/** The key=value pairs of the guest's (last) `net: KIND k=v ...` line, as numbers. */
function report(r: RunResult, kind: string): Record<string, number> | undefined {
  const line = [...r.stdout.matchAll(new RegExp(`^net: ${kind} (\\w+=.*)$`, 'gm'))].pop()?.[1];
  if (line === undefined) return undefined;
  return Object.fromEntries([...line.matchAll(/(\w+)=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
}

async function domainGone(d: TestDaemons, name: string): Promise<void> {
  await eventually(async () => {
    const r = await d.cli(['list', '--json']);
    return (JSON.parse(r.stdout) as { name: string }[]).some((x) => x.name === name) ? undefined : true;
  }, 30_000);
}

t.test('two guests ping each other over the internal switch', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const responder = runDomain(d, netConfig(d, 'pong', 'mode=responder ip=10.0.0.2 mask=24'));
  const ping = await runDomain(d, netConfig(d, 'ping', 'mode=ping ip=10.0.0.3 mask=24 peer=10.0.0.2 count=20'));
  t.equal(result(ping), 'SUCCESS', ping.stdout);
  t.match(ping.stdout, /net: nic device\/vif\/0 mac=00:16:3e:[0-9a-f:]{8} ip=10\.0\.0\.3 mask=24 driver=netfront/);
  const p = report(ping, 'ping');
  t.ok(p, 'a ping report');
  t.match(p, { sent: 20, received: 20, lost: 0 });
  t.ok(p!.rtt_min_us! <= p!.rtt_p50_us! && p!.rtt_p50_us! <= p!.rtt_p99_us! && p!.rtt_p99_us! <= p!.rtt_max_us!, 'ordered percentiles');
  t.match(ping.stdout, /net: close: 0/, 'the frontend closed and the backend let go of every grant');
  // The responder's UDP echo server, from a guest whose netfront spins instead of sleeping.
  const udp = await runDomain(d, netConfig(d, 'uping', 'mode=udp-ping ip=10.0.0.4 peer=10.0.0.2 count=20 size=1400 netfront.poll=1'));
  t.equal(result(udp), 'SUCCESS', udp.stdout);
  t.match(udp.stdout, /netfront: device\/vif\/0 .* poll=1/, 'poll mode');
  t.match(report(udp, 'udp-ping'), { sent: 20, received: 20, lost: 0 });
  t.equal((await d.cli(['destroy', 'pong'])).code, 0);
  const r = await responder;
  t.match(r.stdout, /net: responder on port 7000/);
});

t.test('100,000 paced UDP datagrams arrive, none lost, in order', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const count = 100_000;
  const recv = runDomain(d, netConfig(d, 'sink', `mode=udp-recv ip=10.0.1.2 count=${count} timeout=280`));
  const send = await runDomain(d, netConfig(d, 'source', `mode=udp-send ip=10.0.1.3 peer=10.0.1.2 count=${count} size=1472 rate=4000`));
  const r = await recv;
  t.equal(result(send), 'SUCCESS', send.stdout);
  t.equal(result(r), 'SUCCESS', r.stdout);
  t.match(report(send, 'udp-send'), { sent: count, bytes: count * 1472 });
  t.match(report(r, 'udp-recv'), { received: count, lost: 0, reordered: 0, duplicates: 0, bad: 0, bytes: count * 1472 }, r.stdout);
  t.match(r.stdout, /net: stats .*rx_bad_csum=0 /, 'every checksum verified');
});

t.test('an unpaced flood reports its loss consistently', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const count = 50_000;
  const recv = runDomain(d, netConfig(d, 'sink2', `mode=udp-recv ip=10.0.2.2 count=${count} timeout=280`));
  const send = await runDomain(d, netConfig(d, 'flood', `mode=udp-send ip=10.0.2.3 peer=10.0.2.2 count=${count}`));
  const r = await recv;
  t.equal(result(send), 'SUCCESS', send.stdout);
  t.equal(result(r), 'SUCCESS', r.stdout);
  const s = report(send, 'udp-send');
  const u = report(r, 'udp-recv');
  t.ok(s && u, 'both reports');
  t.equal(s!.sent, count);
  t.equal(u!.sent, count, 'the receiver learnt what was sent (the done marker)');
  t.equal(u!.received + u!.lost, count, 'received + lost == sent');
  t.ok(u!.received > 0, 'something arrived');
  t.equal(u!.duplicates, 0);
  for (const k of ['reordered', 'mbps', 'pps', 'elapsed_us']) t.type(u![k], 'number', `${k} reported`);
});

t.test('a vif hot-plugged after boot is found; an unplugged one closes cleanly', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const responder = runDomain(d, netConfig(d, 'late', 'mode=responder ip=10.0.3.2 duration=600', []));
  t.ok(await eventually(async () => ((await d.cli(['list', '--json'])).stdout.includes('"late"') ? true : undefined)));
  const attach = await d.cli(['network-attach', 'late']);
  t.equal(attach.code, 0, attach.stderr);
  const ping = await runDomain(d, netConfig(d, 'early', 'mode=ping ip=10.0.3.3 peer=10.0.3.2 count=3'));
  t.equal(result(ping), 'SUCCESS', ping.stdout);
  t.match(report(ping, 'ping'), { received: 3 });
  // Unplug under the responder: netback goes Closing, the guest closes its side and stops.
  const detach = await d.cli(['network-detach', 'late', '0']);
  t.equal(detach.code, 0, detach.stderr);
  const r = await responder;
  t.match(r.stdout, /netfront: device\/vif\/0: backend is (Closing|Closed|gone); closing/);
  t.match(r.stdout, /net: responder: NIC failed: -107/, 'the stack sees ENOTCONN');
  t.match(r.stdout, /Test result: SUCCESS/);
  await domainGone(d, 'late');
});
