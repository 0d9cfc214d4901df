// hypervisord.ts: the hypervisor daemon — the only process that opens /dev/kvm. It runs domains
// and serves the privileged interface to one dom0; domains outlive a dom0 restart.
import { Hypervisor } from '../domain/hypervisor.ts';
import { PrivilegedServer } from './privileged-server.ts';

export interface HypervisorDaemonOptions {
  readonly runDir: string;
  readonly log: (line: string) => void;
}

/** Run until SIGTERM/SIGINT; every domain is destroyed before it resolves. */
export async function runHypervisorDaemon(opts: HypervisorDaemonOptions): Promise<void> {
  const hv = new Hypervisor();
  const server = new PrivilegedServer(hv, opts.runDir, opts.log);
  try {
    await server.listen();
  } catch (err) {
    await hv.close();
    throw err;
  }
  opts.log(`hypervisor ready in ${opts.runDir}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
  await hv.close();
}
