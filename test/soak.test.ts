// soak.test.ts: a short soak run (test/helpers/soak/; `npm run soak` is the long one) — resident
// guests, verified disk I/O, UDP echoes, console sessions and create/destroy churn for half a
// minute — after which both daemons hold no more fds or threads than after the warm-up, their RSS
// grew within the leak bound, and no I/O failed. Counts only: no figure depends on the host's speed.
import t from 'tap';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { DEFAULT_ALLOWANCE, runSoak } from './helpers/soak/soak.ts';

t.test('a short soak leaves both daemons flat and loses no I/O', kvmTest(), async (t) => {
  const r = await runSoak({
    seconds: 30, warmupSeconds: 10,
    // Fewer guests than `npm run soak`: the suite runs two files at a time on a 2-core host.
    diskGuests: 1, netGuests: 1, floodGuests: 0, churnLanes: 1,
    diskOps: 2000, netEchoes: 100, floodMiB: 1,
    sampleEveryMs: 10_000,
    // Bounds the worst case (a guest that hangs is destroyed and counted) within tap's 300 s per file.
    guestLimitSeconds: 60,
    keepLogsIn: join(tmpdir(), `pvkvm-soak-logs-${process.pid}`),
    allowance: DEFAULT_ALLOWANCE,
    log: (line) => t.comment(line),
  });
  t.comment(`guests ${r.guests}, cycles ${r.cycles}, disk runs ${r.disk_runs} (${r.disk_verified_ops} ops), net runs ${r.net_runs} ` +
    `(${r.net_echoes} echoes, ${r.net_lost} lost), console sessions ${r.console_sessions}`);
  t.same(r.errors, [], 'no I/O error: every guest verified its I/O and ended as expected');
  t.equal(r.io_errors, 0, 'io_errors');
  for (const k of ['hypervisor', 'dom0'] as const) {
    const { warm, end, growth } = r.daemons[k];
    t.ok(growth.fds <= r.allowance.fds, `${k}: open fds ${warm.fds} after the warm-up, ${end.fds} at the end`);
    t.ok(growth.threads <= r.allowance.threads, `${k}: threads ${warm.threads} → ${end.threads}`);
    t.ok(growth.rss_mib <= r.allowance.rssMiB, `${k}: RSS grew by ${growth.rss_mib} MiB (bound ${r.allowance.rssMiB})`);
  }
  t.ok(r.disk_runs > 0 && r.net_runs > 0 && r.console_sessions > 0 && r.cycles >= 3, 'every workload completed runs');
  t.ok(r.samples.some((s) => s.phase === 'warm-up') && r.samples.some((s) => s.phase === 'end'), 'both readings are in the series');
  t.ok(r.passed, r.failures.join('; ') || 'passed');
});
