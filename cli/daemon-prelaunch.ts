// daemon-prelaunch.ts: its own small bundle (dist/daemon-confine.js) — stage one of a daemon's
// confinement, then execve of `node PVKVM_JS daemon KIND ...`. What `pvkvm up`/`run` start: the
// daemon then need not load the whole CLI bundle twice (once only to re-execute itself).
// Usage: node daemon-confine.js PVKVM_JS daemon hypervisor|dom0 [daemon options]
import { reexecConfined } from '../host/confine.ts';
import { CONFINEMENT_POLICY } from './daemon-policies.ts';

const [script, sub, kind] = process.argv.slice(2);
if (script === undefined || sub !== 'daemon' || (kind !== 'hypervisor' && kind !== 'dom0')) {
  process.stderr.write('pvkvm: usage: node daemon-confine.js PVKVM_JS daemon hypervisor|dom0 [options]\n');
  process.exit(2);
}
try {
  reexecConfined(CONFINEMENT_POLICY[kind], [process.execPath, ...process.execArgv, ...process.argv.slice(2)]);
} catch (err) {
  process.stderr.write(`pvkvm: ${(err as Error).message}\n`);
  process.exit(1);
}
