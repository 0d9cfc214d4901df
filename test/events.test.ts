// events.test.ts: event channels, upcall delivery (both modes), SCHEDOP_poll/block and timers,
// each exercised by its own guest with its error paths.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';

const GUESTS = ['evtchn-ops', 'evtchn-upcall', 'evtchn-poll', 'timer'];

for (const mode of ['vector', 'callback']) {
  for (const name of GUESTS) {
    t.test(`${name} (upcall ${mode})`, kvmTest(), async (t) => {
      const r = await runGuest(name, ['--cmdline', `mode=${mode}`]);
      t.equal(testResult(r.stdout), 'SUCCESS', `${name} reports SUCCESS\n${r.stdout}\n${r.stderr}`);
      t.equal(r.code, 0, 'the guest powered off');
    });
  }
}
