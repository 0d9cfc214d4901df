// frame-connection.ts: one end of the privileged interface — length-prefixed protobuf frames on a
// Unix stream socket, plus the SOCK_SEQPACKET side channel that carries file descriptors.
import type { Socket } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { decodeFrame, encodeFrame, type Frame } from '../abi/privileged.ts';
import { libc } from './libc.ts';
import { recvWithFds, sendWithFds } from './unix-fds.ts';

/** Largest frame accepted: a CreateDomain carries the kernel and modules. */
export const MAX_FRAME_BYTES = 1 << 30;

export interface FrameConnectionEvents {
  frame: (frame: Frame) => void;
  /** The peer went away or sent something undecodable (then `why` says what). */
  close: (why: string) => void;
}

export class FrameConnection extends EventEmitter<FrameConnectionEvents> {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closed = false;
  /** Fds received on the side channel but not yet claimed by a response. */
  private spareFds: number[] = [];

  constructor(private readonly sock: Socket, private fdChannel = -1) {
    super();
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('close', () => this.shut('peer closed the connection'));
    sock.on('error', (err) => this.shut(err.message));
  }

  /** Attach the fd side channel (the server learns it after the Hello). */
  setFdChannel(fd: number): void {
    this.fdChannel = fd;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(frame: Frame): void {
    if (this.closed) return;
    const body = encodeFrame(frame);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length, 0);
    this.sock.write(Buffer.concat([head, body]));
  }

  /** Send fds ahead of the frame that announces them (the peer reads them when it sees it). */
  sendFds(fds: readonly number[]): void {
    if (fds.length === 0) return;
    if (this.fdChannel < 0) throw new Error('no fd channel');
    sendWithFds(this.fdChannel, new Uint8Array([fds.length]), fds);
  }

  /** Take `n` fds sent ahead of the frame being handled. */
  takeFds(n: number): number[] {
    while (this.spareFds.length < n && this.fdChannel >= 0) {
      const rec = recvWithFds(this.fdChannel);
      if (rec === null) break;
      this.spareFds.push(...rec.fds);
    }
    if (this.spareFds.length < n) throw new Error(`expected ${n} fds on the side channel, got ${this.spareFds.length}`);
    return this.spareFds.splice(0, n);
  }

  close(): void {
    this.sock.destroy();
    this.shut('closed');
  }

  private shut(why: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.spareFds) libc.close(fd);
    this.spareFds = [];
    if (this.fdChannel >= 0) libc.close(this.fdChannel);
    this.fdChannel = -1;
    this.sock.destroy();
    this.emit('close', why);
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    while (!this.closed && this.buffered >= 4) {
      // Join only what is needed: a frame carrying a kernel arrives in many chunks, and joining
      // everything on every chunk would copy it over and over.
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.join();
      const len = head.readUInt32LE(0);
      if (len > MAX_FRAME_BYTES) {
        this.shut(`frame of ${len} bytes is too large`);
        return;
      }
      if (this.buffered < 4 + len) return;
      const all = this.join();
      const body = all.subarray(4, 4 + len);
      const rest = all.subarray(4 + len);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      let frame: Frame;
      try {
        frame = decodeFrame(body);
      } catch (err) {
        this.shut(`undecodable frame: ${(err as Error).message}`);
        return;
      }
      this.emit('frame', frame);
    }
  }

  /** Join the buffered chunks into one (and keep it as the only chunk). */
  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }
}
