// xenstore-flood.test.ts: guests that abuse their store ring (test/guests/xsflood) beside a
// well-behaved xenstore guest — one that floods requests and never reads a reply while thousands of
// watch events fire for it, one that sends an oversized frame. dom0's memory stays bounded (the
// ring server's reply back-pressure and watch-event drop limit, docs/xenstore.md "Limits"), the
// flooder gets only itself stuck, and the other guest's xenstore session works throughout.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually, processRssKiB, type TestDaemons } from './helpers/daemons.ts';
import { XsSocketClient } from './helpers/xs-client.ts';
import { logFile } from '../cli/daemons.ts';
import { iterations, report } from './helpers/fuzz.ts';

const EVENTS = iterations(4000);
/** dom0 may grow by this much while a guest floods (its queues are capped far below it). */
const RSS_ALLOWANCE_KIB = 64 * 1024;

const domidOf = (stdout: string): number => Number(/created domain (\d+)/.exec(stdout)![1]);
const consoleLog = (d: TestDaemons, name: string): string => { try { return readFileSync(join(d.runDir, 'logs', `console-${name}.log`), 'utf8'); } catch { return ''; } };

/** The xenstore guest's whole session (writes, transactions, watches, the handshake), while the flooder is stuck. */
async function wellBehaved(t: Test, d: TestDaemons, xs: XsSocketClient, name: string): Promise<void> {
  const c = await d.cli(['create', d.config(name, 'xenstore')]);
  t.equal(c.code, 0, c.stderr);
  const home = `/local/domain/${domidOf(c.stdout)}`;
  t.equal(await eventually(async () => (await xs.read(`${home}/data/ready`).catch(() => undefined)), 120_000), '1', 'the good guest wrote data/ready');
  await xs.write(`${home}/data/from-dom0`, 'still-served');
  const echo = await eventually(async () => (await xs.read(`${home}/data/echo`).catch(() => undefined)), 120_000);
  t.equal(echo, 'still-served', 'its watch fired and it echoed', { console: consoleLog(d, name) });
  await xs.write(`${home}/data/done`, '1'); // the guest waits for this before it powers off
  t.ok(await eventually(() => (/Test result: SUCCESS/.test(consoleLog(d, name)) ? true : undefined), 120_000), 'its whole xenstore session passed');
}

t.test('a guest that floods requests and never reads replies, with watch events piling up', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const xs = await XsSocketClient.connect(join(d.runDir, 'xenstored.sock'));
  t.teardown(() => xs.close());
  const rss0 = processRssKiB(d.pid('dom0'));
  const c = await d.cli(['create', d.config('flood', 'xsflood', { cmdline: 'mode=noread watches=100' })]);
  t.equal(c.code, 0, c.stderr);
  const home = `/local/domain/${domidOf(c.stdout)}`;
  t.ok(await eventually(() => (/xsflood: stuck/.test(consoleLog(d, 'flood')) ? true : undefined), 120_000), 'dom0 stopped taking its requests (back-pressure)');
  t.match(consoleLog(d, 'flood'), /flooding with 100 watches/);
  // Every write fires the flooder's 100 watches: events it never reads.
  for (let i = 0; i < EVENTS / 100; i++) await xs.write(`${home}/data/w`, `v${i}`);
  const rss1 = processRssKiB(d.pid('dom0'));
  t.comment(`dom0 RSS ${rss0} KiB → ${rss1} KiB after ${EVENTS} unread watch events and a stuck request ring`);
  t.ok(rss1 - rss0 < RSS_ALLOWANCE_KIB, `dom0 grew by ${rss1 - rss0} KiB (< ${RSS_ALLOWANCE_KIB})`);
  t.match(readFileSync(logFile(d.runDir, 'dom0'), 'utf8'), /dom\d+ is not reading its ring; dropping watch events/, 'events past the cap were dropped, and said so once');
  await wellBehaved(t, d, xs, 'good');
  const l = JSON.parse((await d.cli(['list', '--json'])).stdout) as { name: string }[];
  t.ok(l.some((x) => x.name === 'flood'), 'the flooder is still there, stuck only itself');
  t.equal((await d.cli(['destroy', 'flood'])).code, 0, 'and can be destroyed');
  report({ target: 'xenstore-flood', kind: 'frames', count: EVENTS, seed: 0, crashes: 0, hangs: 0 });
});

t.test('a guest that sends a frame over XENSTORE_PAYLOAD_MAX: its ring is shut off, nobody else is', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const xs = await XsSocketClient.connect(join(d.runDir, 'xenstored.sock'));
  t.teardown(() => xs.close());
  t.equal((await d.cli(['create', d.config('garbage', 'xsflood', { cmdline: 'mode=garbage' })])).code, 0);
  t.ok(await eventually(() => (/xsflood: stuck/.test(consoleLog(d, 'garbage')) ? true : undefined), 120_000));
  t.match(consoleLog(d, 'garbage'), /xsflood: ring error [1-9]/, 'the guest sees the ring error dom0 flagged');
  await wellBehaved(t, d, xs, 'good');
  t.equal((await d.cli(['destroy', 'garbage'])).code, 0);
});
