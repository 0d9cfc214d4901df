// control-client.ts: the CLI's connection to dom0's toolstack socket — JSON requests, and the
// console stream a `console` or `create --console` request turns the connection into.
import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { PvkvmError } from '../host/errors.ts';
import { runDirPath } from '../abi/run-dir.ts';
import type { ConsoleInput, ControlReply, ControlOp, DomainEndReport } from '../abi/control.ts';

export type { DomainEndReport } from '../abi/control.ts';


export interface ControlClientEvents {
  output: (bytes: Buffer) => void;
  end: (end: DomainEndReport) => void;
  'first-entry': (atEpochMs: number) => void;
  close: () => void;
}

export class ControlClient extends EventEmitter<ControlClientEvents> {
  private buf = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly sock: Socket) {
    super();
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.onData(d));
    sock.on('close', () => {
      for (const p of this.pending.values()) p.reject(new PvkvmError('dom0 closed the connection'));
      this.pending.clear();
      this.emit('close');
    });
    sock.on('error', () => sock.destroy());
  }

  static connect(runDir: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(runDirPath(runDir, 'controlSocket'));
      sock.once('connect', () => resolve(new ControlClient(sock)));
      sock.once('error', (err: NodeJS.ErrnoException) => {
        reject(new PvkvmError(`cannot reach dom0 in ${runDir} (${err.code ?? err.message}); start the daemons with 'pvkvm up'`));
      });
    });
  }

  /** Send a request; resolves with its result or rejects with dom0's one-line error. */
  request<T = unknown>(op: ControlOp, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** Terminal input for an attached console. */
  input(bytes: Buffer): void {
    const msg: ConsoleInput = { type: 'input', data: bytes.toString('base64') };
    this.sock.write(`${JSON.stringify(msg)}\n`);
  }

  close(): void {
    this.sock.end();
    this.sock.destroy();
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      // dom0's lines are checked field by field: the protocol's types say what to expect.
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof msg !== 'object' || msg === null) continue;
      if (msg.type === 'output' && typeof msg.data === 'string') {
        this.emit('output', Buffer.from(msg.data, 'base64'));
      } else if (msg.type === 'first-entry' && typeof msg.atMs === 'number') {
        this.emit('first-entry', msg.atMs);
      } else if (msg.type === 'end' && typeof msg.end === 'object' && msg.end !== null) {
        this.emit('end', msg.end as DomainEndReport);
      } else if (typeof msg.id === 'number') {
        const p = this.pending.get(msg.id);
        if (p === undefined) continue;
        this.pending.delete(msg.id);
        const reply = msg as ControlReply;
        if (reply.ok) p.resolve(reply.result);
        else p.reject(new PvkvmError(typeof reply.error === 'string' ? reply.error : 'request failed'));
      }
    }
  }
}
