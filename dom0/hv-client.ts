// hv-client.ts: dom0's end of the privileged interface — connects to the hypervisor daemon, sends
// requests, matches replies (with their SCM_RIGHTS fds) and re-emits lifecycle events.
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { INTERFACE_VERSION, type Event, type Frame, type RequestOp, type Response } from '../abi/privileged.ts';
import { FrameConnection } from '../host/frame-connection.ts';
import { connectSeqpacket, sendWithFds } from '../host/unix-fds.ts';
import { runDirPath } from '../abi/run-dir.ts';
import { libc } from '../host/libc.ts';
import { PvkvmError } from '../host/errors.ts';

/** A refused request, carrying the hypervisor's errno and message. */
export class HypervisorError extends PvkvmError {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

export interface Reply { readonly response: Response; readonly fds: number[] }

export interface HvClientEvents {
  event: (ev: Event) => void;
  close: (why: string) => void;
}

export class HvClient extends EventEmitter<HvClientEvents> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  private constructor(private readonly conn: FrameConnection) {
    super();
    conn.on('frame', (f: Frame) => this.onFrame(f));
    conn.on('close', (why) => {
      for (const p of this.pending.values()) p.reject(new Error(`hypervisor connection closed: ${why}`));
      this.pending.clear();
      this.emit('close', why);
    });
  }

  /** Connect to the hypervisor daemon in `runDir` and say hello. */
  static async connect(runDir: string): Promise<{ client: HvClient; hello: Extract<Response, { body: 'hello' }>['hello'] }> {
    const token = randomBytes(16);
    // The side channel first: the hypervisor pairs it with this connection by the token in Hello.
    const fdChan = connectSeqpacket(runDirPath(runDir, 'hypervisorFdSocket'));
    try {
      sendWithFds(fdChan, token, []);
      const sock = connect(runDirPath(runDir, 'hypervisorSocket'));
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', () => resolve());
        sock.once('error', reject);
      });
      const client = new HvClient(new FrameConnection(sock, fdChan));
      const r = await client.call({ op: 'hello', hello: { fd_token: token, pid: process.pid } });
      if (r.response.body !== 'hello') throw new Error('unexpected hello reply');
      return { client, hello: r.response.hello };
    } catch (err) {
      libc.close(fdChan);
      throw err;
    }
  }

  request(op: RequestOp): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (this.conn.isClosed) {
        reject(new Error('hypervisor connection closed'));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.conn.send({ kind: 'request', request: { interface_version: INTERFACE_VERSION, id, ...op } });
    });
  }

  /** request() that turns a refusal into a HypervisorError. */
  async call(op: RequestOp): Promise<Reply> {
    const r = await this.request(op);
    if (r.response.errno !== 0) {
      for (const fd of r.fds) libc.close(fd);
      throw new HypervisorError(r.response.errno, r.response.error);
    }
    return r;
  }

  close(): void {
    this.conn.close();
  }

  private onFrame(f: Frame): void {
    if (f.kind === 'event') {
      this.emit('event', f.event);
      return;
    }
    if (f.kind !== 'response') return;
    const p = this.pending.get(f.response.id);
    if (p === undefined) return;
    this.pending.delete(f.response.id);
    try {
      const fds = f.response.fd_count > 0 ? this.conn.takeFds(f.response.fd_count) : [];
      p.resolve({ response: f.response, fds });
    } catch (err) {
      p.reject(err as Error);
    }
  }
}
