// shutdown-reasons.test.ts: every SCHEDOP_shutdown reason becomes its documented exit status.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';
import { EXIT } from '../cli/exit-codes.ts';
import { SHUTDOWN } from '../abi/sched.ts';

const expected: Record<number, number> = {
  [SHUTDOWN.values.poweroff]: EXIT.poweroff,
  [SHUTDOWN.values.reboot]: EXIT.reboot,
  [SHUTDOWN.values.suspend]: EXIT.suspend,
  [SHUTDOWN.values.crash]: EXIT.crash,
  [SHUTDOWN.values.watchdog]: EXIT.watchdog,
  [SHUTDOWN.values.soft_reset]: EXIT.soft_reset,
};

t.test('each shutdown reason maps to its exit code', kvmTest(), async (t) => {
  for (const [reason, code] of Object.entries(expected)) {
    const r = await runGuest('shutdown', ['--cmdline', `reason=${reason}`]);
    t.equal(testResult(r.stdout), 'SUCCESS', `reason ${reason}: guest ran`);
    t.equal(r.code, code, `reason ${reason} → exit ${code}\n${r.stderr}`);
  }
});

t.test('an unknown reason counts as a crash', kvmTest(), async (t) => {
  const r = await runGuest('shutdown', ['--cmdline', 'reason=9']);
  t.equal(r.code, EXIT.crash);
  t.match(r.stderr, /unknown reason 9/);
});

t.test('SCHEDOP_shutdown_code latches the reason that wins', kvmTest(), async (t) => {
  const r = await runGuest('shutdown', ['--cmdline', 'code=1 reason=0']);
  t.equal(r.code, EXIT.reboot, `latched reboot wins over the later poweroff\n${r.stdout}`);
});
