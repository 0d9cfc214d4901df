// privileged-server.ts: the hypervisor daemon's listening end of the privileged interface — one
// dom0 at a time, same user (or root) only, a Hello with the fd-channel token first.
//
//   RUN_DIR/hypervisor.sock      stream socket, protobuf frames   (mode 0600)
//   RUN_DIR/hypervisor-fd.sock   SOCK_SEQPACKET, SCM_RIGHTS only   (mode 0600)
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import type { Frame, Request, Event } from '../../abi/privileged.ts';
import { FrameConnection } from '../../host/frame-connection.ts';
import { acceptNonblocking, listenSeqpacket, peerCredentials, recvWithFds, socketFd } from '../../host/unix-fds.ts';
import { libc } from '../../host/libc.ts';
import { releaseAllDom0Channels } from '../events/dom0-channels.ts';
import type { Hypervisor } from '../domain/hypervisor.ts';
import type { Domain, DomainEnd } from '../domain/domain.ts';
import { PrivilegedService, errorResponse, RequestError } from './privileged-service.ts';
import { runDirPath } from '../../abi/run-dir.ts';


function endMessage(end: DomainEnd): Extract<Event, { what: 'dead' }>['dead'] {
  const base = { kind: end.kind, reason: 0, detail: '', fault_vcpu: 0, fault_kind: '', fault_rip: '' };
  switch (end.kind) {
    case 'shutdown': return { ...base, reason: end.reason };
    case 'destroyed': return { ...base, detail: end.why };
    case 'fault': return {
      ...base, detail: end.fault.detail, fault_vcpu: end.fault.vcpuId, fault_kind: end.fault.kind, fault_rip: end.fault.rip,
    };
  }
}

export class PrivilegedServer {
  private server: Server | null = null;
  private fdListen = -1;
  private dom0: FrameConnection | null = null;
  private readonly service: PrivilegedService;
  private readonly watched = new WeakSet<Domain>();

  constructor(private readonly hv: Hypervisor, private readonly runDir: string, private readonly log: (l: string) => void) {
    this.service = new PrivilegedService(hv);
    hv.on('domain', (d) => this.watchDomain(d));
  }

  async listen(): Promise<void> {
    const main = runDirPath(this.runDir, 'hypervisorSocket');
    const fds = runDirPath(this.runDir, 'hypervisorFdSocket');
    rmSync(main, { force: true });
    rmSync(fds, { force: true });
    this.fdListen = listenSeqpacket(fds);
    chmodSync(fds, 0o600);
    this.server = createServer((sock) => this.onConnection(sock));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(main, () => resolve());
    });
    chmodSync(main, 0o600);
  }

  async close(): Promise<void> {
    this.dom0?.close();
    if (this.fdListen >= 0) libc.close(this.fdListen);
    this.fdListen = -1;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(runDirPath(this.runDir, 'hypervisorSocket'), { force: true });
    rmSync(runDirPath(this.runDir, 'hypervisorFdSocket'), { force: true });
  }

  private onConnection(sock: Socket): void {
    const fd = socketFd(sock);
    const cred = fd >= 0 ? peerCredentials(fd) : null;
    const myUid = process.getuid?.() ?? 0;
    if (cred === null || (cred.uid !== myUid && cred.uid !== 0)) {
      this.log(`refused a privileged connection from uid ${cred?.uid ?? '?'}`);
      sock.destroy();
      return;
    }
    const conn = new FrameConnection(sock);
    let hello = false;
    conn.on('frame', (f: Frame) => {
      if (f.kind !== 'request') {
        conn.close();
        return;
      }
      const req = f.request;
      if (!hello) {
        if (req.op !== 'hello') {
          this.reply(conn, req, new RequestError(1, 'the first request must be hello'));
          conn.close();
          return;
        }
        if (this.dom0 !== null && !this.dom0.isClosed) {
          // Take its side channel off the backlog too, or refused clients would fill it.
          const stray = this.claimFdChannel(req.hello.fd_token, cred.pid);
          if (stray >= 0) libc.close(stray);
          this.reply(conn, req, new RequestError(16, 'another dom0 is connected'));
          conn.close();
          return;
        }
        const fdChan = this.claimFdChannel(req.hello.fd_token, cred.pid);
        if (fdChan < 0) {
          this.reply(conn, req, new RequestError(1, 'no fd channel with the hello token'));
          conn.close();
          return;
        }
        conn.setFdChannel(fdChan);
        hello = true;
        this.dom0 = conn;
        this.log(`dom0 connected (pid ${cred.pid})`);
        conn.on('close', (why) => {
          if (this.dom0 === conn) this.dom0 = null;
          this.log(`dom0 disconnected: ${why}`);
          // Its eventfds died with it: the guests' ports go back to unbound (remote dom0) for
          // the next dom0 to bind, as after a backend domain restart in Xen.
          const freed = releaseAllDom0Channels(this.hv.shared, (domid) => this.hv.domain(domid)?.events ?? null);
          if (freed > 0) this.log(`released ${freed} dom0 event channels`);
          const unpinned = this.hv.dom0Grants.releaseAll();
          if (unpinned > 0) this.log(`released ${unpinned} dom0 grant mappings`);
        });
      }
      this.reply(conn, req, null);
    });
  }

  /** Find the side-channel connection that sent `token` (the dom0 connects it before Hello). */
  private claimFdChannel(token: Uint8Array, pid: number): number {
    for (;;) {
      const fd = acceptNonblocking(this.fdListen);
      if (fd < 0) return -1;
      let rec: { data: Uint8Array; fds: number[] } | null = null;
      try {
        rec = recvWithFds(fd);
      } catch {
        rec = null;
      }
      for (const f of rec?.fds ?? []) libc.close(f);
      const cred = peerCredentials(fd);
      if (rec !== null && cred.pid === pid && Buffer.compare(Buffer.from(rec.data), Buffer.from(token)) === 0) return fd;
      libc.close(fd);
    }
  }

  private reply(conn: FrameConnection, req: Request, refused: RequestError | null): void {
    if (refused !== null) {
      conn.send({ kind: 'response', response: errorResponse(req.id, refused) });
      return;
    }
    try {
      const r = this.service.handle(req);
      const fds = r.fds ?? [];
      conn.sendFds(fds);
      conn.send({ kind: 'response', response: { id: req.id, errno: 0, error: '', fd_count: fds.length, ...r.body } });
    } catch (err) {
      if (!(err instanceof RequestError)) this.log(`request ${req.op} failed: ${err instanceof Error ? err.stack : String(err)}`);
      conn.send({ kind: 'response', response: errorResponse(req.id, err) });
    }
  }

  private emitEvent(ev: Event): void {
    this.dom0?.send({ kind: 'event', event: ev });
  }

  private watchDomain(d: Domain): void {
    if (this.watched.has(d)) return;
    this.watched.add(d);
    d.on('state', (state) => { if (state !== 'dead') this.emitEvent({ domid: d.domid, what: 'state', state }); });
    d.on('console', (text, atMs) => this.emitEvent({ domid: d.domid, at_ms: atMs, what: 'console_io', console_io: new TextEncoder().encode(text) }));
    d.on('uart', (text) => this.emitEvent({ domid: d.domid, what: 'uart_output', uart_output: new TextEncoder().encode(text) }));
    d.on('first-entry', (ms) => this.emitEvent({ domid: d.domid, what: 'first_entry_ms', first_entry_ms: ms }));
    d.on('dead', (end) => this.emitEvent({ domid: d.domid, what: 'dead', dead: endMessage(end) }));
  }
}
