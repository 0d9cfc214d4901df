// socket-server.ts: the Unix-socket listener for privileged (dom0) xenstore clients such as
// xenstore-utils; each client is a Connection with domid 0, framed as on the ring.
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Connection } from './connection.ts';
import { FrameParser, FrameTooLong } from './wire.ts';

/** A client that lets this much output pile up unread (say, under a watch flood) is dropped. */
const MAX_UNREAD = 16 * 1024 * 1024;

export class SocketServer {
  private server: Server | undefined;
  private readonly clients = new Set<Socket>();

  constructor(
    private readonly open: (send: (msg: Buffer) => void) => Connection,
    private readonly log: (line: string) => void,
  ) {}

  /** Listen at `path` (mode 0600). A leftover socket file from an earlier run is replaced. */
  async listen(path: string): Promise<void> {
    if (this.server) throw new Error('xenstored: already listening');
    try {
      if ((await lstat(path)).isSocket()) await unlink(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const server = createServer((sock) => this.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.log(`xenstored: socket server: ${e.message}`));
    this.server = server;
    await chmod(path, 0o600);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const sock of this.clients) sock.destroy();
    this.clients.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private accept(sock: Socket): void {
    this.clients.add(sock);
    const parser = new FrameParser();
    const conn = this.open((msg) => {
      if (sock.destroyed) return;
      if (sock.writableLength > MAX_UNREAD) return drop('not reading its replies');
      sock.write(msg);
    });
    const drop = (why?: string): void => {
      if (why) this.log(`xenstored: dropping socket client: ${why}`);
      conn.close();
      this.clients.delete(sock);
      sock.destroy();
    };
    sock.on('data', (chunk: Buffer) => {
      let msgs;
      try {
        msgs = parser.push(chunk);
      } catch (e) {
        if (e instanceof FrameTooLong) return drop(e.message);
        throw e;
      }
      for (const m of msgs) {
        if (conn.isClosed) return;
        conn.handle(m);
      }
    });
    sock.on('error', () => drop());
    sock.on('close', () => drop());
  }
}
