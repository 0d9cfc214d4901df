// hypervisor-alone.ts: a real hypervisor daemon with the test as its dom0 — the daemon in a
// private run directory and a connected privileged client, both torn down with the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnDaemon } from '../../cli/daemons.ts';
import { HvClient } from '../../dom0/hv-client.ts';
import { PVKVM, cleanEnv } from './run-guest.ts';
import { eventually } from './daemons.ts';

interface Teardown { teardown(fn: () => unknown): void }

/** Start the hypervisor daemon in a new run dir (named after `prefix`) and connect to it as dom0. */
export async function hypervisorAlone(t: Teardown, prefix: string): Promise<{ dir: string; hv: HvClient }> {
  const dir = mkdtempSync(join(tmpdir(), `pvkvm-${prefix}-`));
  const hvd = spawnDaemon('hypervisor', dir, { withParent: true, script: PVKVM, env: cleanEnv() });
  t.teardown(async () => {
    hvd.child.kill('SIGTERM');
    await hvd.exited;
    rmSync(dir, { recursive: true, force: true });
  });
  const { client: hv } = await eventually(() => HvClient.connect(dir).catch(() => undefined)) ?? { client: null };
  if (hv === null) throw new Error('no hypervisor daemon');
  t.teardown(() => hv.close());
  return { dir, hv };
}
