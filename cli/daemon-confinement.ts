// daemon-confinement.ts: `pvkvm daemon KIND` confines itself before it starts (the policy per
// daemon, the re-exec, the log line), and runs the confinement self-test when asked to.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { confinementPrepared, reexecConfined, finishConfinement, describeReport } from '../host/confine.ts';
import { confinementSelftest } from '../host/confine-selftest.ts';
import { CONFINEMENT_POLICY as POLICY, NO_CONFINE_ENV } from './daemon-policies.ts';
import type { DaemonKind } from './daemons.ts';

/** Set to 1 to have each daemon try forbidden operations and log the outcomes (tests). */
export const SELFTEST_ENV = 'PVKVM_CONFINE_SELFTEST';

/**
 * Stage one re-executes this process (never returns); stage two finishes and logs what was and
 * was not applied. Must run before the daemon opens anything or reads stdin.
 */
export function confineDaemon(kind: DaemonKind, wanted: boolean, log: (line: string) => void): void {
  if (!wanted) {
    log(`confinement: off (--no-confine or ${NO_CONFINE_ENV}=1)`);
    return;
  }
  if (!confinementPrepared()) reexecConfined(POLICY[kind]);
  log(describeReport(finishConfinement(POLICY[kind])));
}

/** The hypervisor's pid once its pid file names one (dom0 may start first), or null after ~10 s. */
async function hypervisorPid(runDir: string): Promise<number | null> {
  for (let i = 0; i < 1000; i++) {
    try {
      const pid = Number(readFileSync(join(runDir, 'hypervisor.pid'), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) return pid;
    } catch {
      // not yet written
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return null;
}

/** With PVKVM_CONFINE_SELFTEST=1: log `confinement self-test: {probe: outcome, ...}`. */
export async function maybeSelftest(kind: DaemonKind, runDir: string, log: (line: string) => void): Promise<void> {
  if (process.env[SELFTEST_ENV] !== '1') return;
  const other = kind === 'dom0' ? await hypervisorPid(runDir) : null;
  log(`confinement self-test: ${JSON.stringify(confinementSelftest(runDir, other))}`);
}
