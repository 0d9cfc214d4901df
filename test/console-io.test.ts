// console-io.test.ts: the hypervisor console (console_io, port 0xE9) against the guest's PV console
// — each line once on `pvkvm run`, every console_io line kept for `pvkvm dmesg`.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';

const count = (text: string, needle: string): number => text.split(needle).length - 1;

t.test('pvkvm run shows a line written to both consoles once', kvmTest(), async (t) => {
  const r = await runGuest('console-both');
  t.equal(testResult(r.stdout), 'SUCCESS', r.stdout + r.stderr);
  t.equal(count(r.stdout, 'early line (console_io only)'), 1, 'console_io is shown while the PV console is silent');
  // Line 0 may appear twice: its console_io copy comes before the guest's first PV console write.
  for (const i of [1, 2]) t.equal(count(r.stdout, `line ${i} (both)`), 1, `line ${i} once`);

  const all = await runGuest('console-both', ['--console-io']);
  t.equal(testResult(all.stdout), 'SUCCESS');
  for (const i of [1, 2]) t.equal(count(all.stdout, `line ${i} (both)`), 2, `--console-io: line ${i} from both consoles`);
});

t.test('pvkvm dmesg keeps every console_io line, prefixed with the domain', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const created = await d.cli(['create', d.config('both', 'console-both')]);
  t.equal(created.code, 0, created.stderr);
  const domid = /created domain (\d+)/.exec(created.stdout)![1];
  const gone = await eventually(async () => ((await d.cli(['list', '--json'])).stdout.trim() === '[]' ? true : undefined), 60_000);
  t.ok(gone, 'the guest ran to its end');
  const log = await d.cli(['dmesg']);
  t.equal(log.code, 0, log.stderr);
  t.match(log.stdout, new RegExp(`^\\(d${domid}\\) console-both: early line`, 'm'));
  for (const i of [0, 1, 2]) t.equal(count(log.stdout, `(d${domid}) console-both: line ${i} (both)`), 1);
  const cleared = await d.cli(['dmesg', '--clear']);
  t.match(cleared.stdout, /early line/, '--clear prints first');
  t.equal((await d.cli(['dmesg'])).stdout, '', 'then the log is empty');
});
