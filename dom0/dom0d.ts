// dom0d.ts: the dom0 daemon — connects to the hypervisor daemon, runs xenstored and the console
// backends, and serves the toolstack socket. It never opens /dev/kvm.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { HvClient, HypervisorError } from './hv-client.ts';
import { EventChannelListener } from './evtchn/event-listener.ts';
import { Xenstored } from './xenstore/xenstored.ts';
import { Toolstack } from './toolstack/toolstack.ts';
import { ControlServer } from './toolstack/control-server.ts';
import { join } from 'node:path';
import { runDirPath } from '../abi/run-dir.ts';
import { writeDom0Nodes } from './toolstack/xenstore-layout.ts';
import { Blkback, vdevToDevid } from './blkback/index.ts';
import { makeBackendContext } from './backend-context.ts';
import { Netback } from './netback/index.ts';
import { readBlkStats } from './blkback/stats.ts';
import { loadBackends } from './third-party-backends.ts';
import type { DiskSetting } from '../abi/domain-settings.ts';


export interface Dom0Options {
  readonly runDir: string;
  /** Where the event thread's bundle is (dist/dom0-event-thread.js; the backend workers sit beside it). */
  readonly eventThreadUrl: URL;
  readonly log: (line: string) => void;
  /** How long to keep retrying the hypervisor socket at start-up. */
  readonly connectTimeoutMs?: number;
}

async function connectWithRetry(runDir: string, timeoutMs: number): Promise<Awaited<ReturnType<typeof HvClient.connect>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await HvClient.connect(runDir);
    } catch (err) {
      // A refusal (another dom0, wrong version) is final; a missing socket means "not yet".
      if (err instanceof HypervisorError || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** A pid that names no live process (gone, or a zombie not yet reaped). */
function processDead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/**
 * After the hypervisor daemon died without cleaning up (SIGKILL, a crash): its sockets and pid
 * file, and the persisted store, whose guests died with it. Only when the pid file still names the
 * dead daemon (a new one may already be starting); waits up to 5 s for the process to be gone.
 */
async function removeDeadHypervisorFiles(runDir: string, log: (line: string) => void): Promise<void> {
  const pidPath = join(runDir, 'hypervisor.pid');
  let pid: number;
  try {
    pid = Number(readFileSync(pidPath, 'utf8').trim());
  } catch {
    return; // it removed its own files
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  for (let i = 0; i < 500 && !processDead(pid); i++) await new Promise((r) => setTimeout(r, 10));
  if (!processDead(pid)) return;
  for (const f of [runDirPath(runDir, 'hypervisorSocket'), runDirPath(runDir, 'hypervisorFdSocket'), pidPath, runDirPath(runDir, 'xenstorePersist')]) {
    rmSync(f, { force: true });
  }
  log(`the hypervisor (pid ${pid}) died: removed its sockets, its pid file and the store of its guests`);
}

/** Run dom0 until it is told to stop (or the hypervisor goes away); resolves when it has stopped. */
export async function runDom0(opts: Dom0Options): Promise<void> {
  mkdirSync(runDirPath(opts.runDir, 'logs'), { recursive: true, mode: 0o700 });
  const { client: hv, hello } = await connectWithRetry(opts.runDir, opts.connectTimeoutMs ?? 10_000);
  const xs = new Xenstored({ log: opts.log, persistPath: runDirPath(opts.runDir, 'xenstorePersist') });
  writeDom0Nodes(xs.local);
  const listener = new EventChannelListener(opts.eventThreadUrl);
  const backends = makeBackendContext(hv, xs, opts.log);
  const blkback = new Blkback(backends, { workerUrl: new URL('./blkback-worker.js', opts.eventThreadUrl) });
  // One data-path worker for every vif (it hosts the internal switch), started with the first vif.
  const netback = new Netback(backends, { workerUrl: new URL('./netback-worker.js', opts.eventThreadUrl) });
  const disks = {
    addDisk: (domid: number, d: DiskSetting, takeOver?: boolean) => blkback.addDisk(domid, {
      target: d.target, vdev: d.vdev, devid: vdevToDevid(d.vdev), readonly: d.access === 'ro',
    }, takeOver),
    removeDomain: (domid: number) => blkback.removeDomain(domid),
    removeDisk: (domid: number, devid: number) => blkback.removeDisk(domid, devid),
    stats: (domid: number) => blkback.list(domid).map((d) => ({ devid: d.cfg.devid, counters: readBlkStats(d.stats) })),
  };
  const ts = new Toolstack(hv, xs, listener, {
    logDir: runDirPath(opts.runDir, 'logs'), stateDir: runDirPath(opts.runDir, 'domains'), log: opts.log, disks, net: netback,
    hypervisorPidFile: join(opts.runDir, 'hypervisor.pid'),
  });
  // Third-party backends from RUN_DIR/backends.json (pvkvm up --backend TYPE=MODULE).
  const extraBackends = await loadBackends(opts.runDir, backends, opts.log);
  // A restart: the hypervisor kept the guests running; take them over.
  await ts.adopt(hello.domains);
  let stopping: Promise<void> | null = null;
  let hypervisorLost = false;
  let done!: () => void;
  const finished = new Promise<void>((r) => { done = r; });
  const control = new ControlServer(ts, () => { void stop(true); });
  // `pvkvm down` (the stop request) destroys the guests; a signal only ends dom0 and leaves them
  // running in the hypervisor for the next dom0 to pick up.
  const stop = (destroyDomains: boolean): Promise<void> => {
    stopping ??= (async () => {
      if (destroyDomains) await ts.destroyAll().catch(() => undefined);
      await control.close();
      for (const stopBackend of extraBackends) await stopBackend();
      // Guests left running (a signal) keep their device pairs in the saved store: the next
      // dom0 takes them over and their frontends reconnect.
      await blkback.close(!destroyDomains);
      await netback.close(!destroyDomains);
      await xs.close();
      await listener.close();
      hv.close();
      // After `down` nothing survives: the next `up` starts from an empty store.
      if (destroyDomains) rmSync(runDirPath(opts.runDir, 'xenstorePersist'), { force: true });
      // Before dom0 exits: `pvkvm up` may follow as soon as it has.
      if (hypervisorLost) await removeDeadHypervisorFiles(opts.runDir, opts.log);
      done();
    })();
    return stopping;
  };
  hv.on('close', (why) => {
    opts.log(`lost the hypervisor: ${why}`);
    hypervisorLost = true;
    void stop(false);
  });
  await xs.listen(runDirPath(opts.runDir, 'xenstoredSocket'));
  await control.listen(runDirPath(opts.runDir, 'controlSocket'));
  process.once('SIGTERM', () => { void stop(false); });
  process.once('SIGINT', () => { void stop(false); });
  opts.log(`dom0 ready in ${opts.runDir}`);
  await finished;
}
