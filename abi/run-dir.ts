// run-dir.ts: the names of what the daemons keep in RUN_DIR — the sockets each side listens on
// and the files dom0 persists — shared by the daemons, the CLI and xenstore clients.
import { join } from 'node:path';

export const RUN_DIR_NAMES = {
  /** The hypervisor daemon's privileged interface (protobuf frames), for dom0 only. */
  hypervisorSocket: 'hypervisor.sock',
  /** Its companion SOCK_SEQPACKET socket, which carries fds by SCM_RIGHTS. */
  hypervisorFdSocket: 'hypervisor-fd.sock',
  /** dom0's toolstack socket, which the CLI talks to (abi/control.ts). */
  controlSocket: 'dom0.sock',
  /** xenstored's Unix socket (xs_wire), for xenstore-utils and other dom0 clients. */
  xenstoredSocket: 'xenstored.sock',
  /** The store, persisted so that a restarted dom0 finds it again. */
  xenstorePersist: 'xenstore.json',
  /** One console log per domain. */
  logs: 'logs',
  /** The toolstack's saved domain settings, for adoption after a dom0 restart. */
  domains: 'domains',
} as const;

export type RunDirName = keyof typeof RUN_DIR_NAMES;

/** The path of one of the run directory's entries. */
export function runDirPath(runDir: string, name: RunDirName): string {
  return join(runDir, RUN_DIR_NAMES[name]);
}
