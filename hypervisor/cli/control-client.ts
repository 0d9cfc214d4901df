// control-client.ts: the CLI's connection to dom0's toolstack socket — JSON requests, and the
// console stream a `console` or `create --console` request turns the connection into.
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { PvkvmError } from '../errors.ts';

export const CONTROL_SOCKET_NAME = 'dom0.sock';

/** How a domain ended, as dom0 reports it. */
export interface DomainEndReport {
  readonly kind: string;
  readonly reason: number;
  readonly detail: string;
  readonly fault_vcpu: number;
  readonly fault_kind: string;
  readonly fault_rip: string;
}

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
      const sock = connect(join(runDir, CONTROL_SOCKET_NAME));
      sock.once('connect', () => resolve(new ControlClient(sock)));
      sock.once('error', (err: NodeJS.ErrnoException) => {
        reject(new PvkvmError(`cannot reach dom0 in ${runDir} (${err.code ?? err.message}); start the daemons with 'pvkvm up'`));
      });
    });
  }

  /** Send a request; resolves with its result or rejects with dom0's one-line error. */
  request<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** Terminal input for an attached console. */
  input(bytes: Buffer): void {
    this.sock.write(`${JSON.stringify({ type: 'input', data: bytes.toString('base64') })}\n`);
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
      let msg: {
        id?: number; ok?: boolean; result?: unknown; error?: string; type?: string; data?: string; end?: DomainEndReport; atMs?: number;
      };
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.type === 'output' && typeof msg.data === 'string') {
        this.emit('output', Buffer.from(msg.data, 'base64'));
      } else if (msg.type === 'first-entry' && typeof msg.atMs === 'number') {
        this.emit('first-entry', msg.atMs);
      } else if (msg.type === 'end' && msg.end) {
        this.emit('end', msg.end);
      } else if (typeof msg.id === 'number') {
        const p = this.pending.get(msg.id);
        if (p === undefined) continue;
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new PvkvmError(msg.error ?? 'request failed'));
      }
    }
  }
}
