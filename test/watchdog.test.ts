// watchdog.test.ts: SCHEDOP_watchdog return values; expiry shuts the domain down; petting keeps it up.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';
import { EXIT } from '../cli/exit-codes.ts';

t.test('create, re-arm and destroy return what Xen returns', kvmTest(), async (t) => {
  const r = await runGuest('watchdog', ['--cmdline', 'mode=api']);
  t.equal(testResult(r.stdout), 'SUCCESS', `guest checks passed\n${r.stdout}`);
  t.equal(r.code, EXIT.poweroff, `powered off\n${r.stderr}`);
});

t.test('an expired watchdog shuts the domain down with SHUTDOWN_watchdog', kvmTest(), async (t) => {
  const started = Date.now();
  const r = await runGuest('watchdog', ['--cmdline', 'mode=expire']);
  const elapsed = Date.now() - started;
  t.match(r.stdout, /armed for 1 s; spinning/, 'the guest armed it and started spinning');
  t.equal(r.code, EXIT.watchdog, `exit ${EXIT.watchdog} (watchdog)\n${r.stdout}\n${r.stderr}`);
  t.match(r.stderr, /shut down: watchdog/, 'pvkvm names the reason');
  // Process start-up only adds to this, so it bounds the timer from below: no early firing.
  t.ok(elapsed >= 1000, `not before its 1 s timeout (${elapsed} ms)`);
});

t.test('a watchdog re-armed in time never fires', kvmTest(), async (t) => {
  const started = Date.now();
  const r = await runGuest('watchdog', ['--cmdline', 'mode=pet']);
  const elapsed = Date.now() - started;
  t.equal(testResult(r.stdout), 'SUCCESS', `guest checks passed\n${r.stdout}`);
  t.equal(r.code, EXIT.poweroff, `powered off, not shut down by the watchdog\n${r.stderr}`);
  t.ok(elapsed >= 3000, `ran for the whole ~3 s of petting (${elapsed} ms)`);
});
