// control-server.ts: the toolstack's Unix socket (RUN_DIR/dom0.sock, mode 0600) that the `pvkvm`
// CLI talks to — one JSON object per line. A `console` request turns the connection into a
// console stream: {type:'output'|'end'} from dom0, {type:'input'} from the client.
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import type { Toolstack } from './toolstack.ts';
import { ToolstackError } from './toolstack.ts';
import { settingsProblem, vifProblem, diskProblem, MAX_VIF_DEVID, type DiskSetting } from '../../abi/domain-settings.ts';
import type { VifRequest } from './vifs.ts';
import type { GuestDomain } from './guest-domain.ts';
import { CONTROL_MAX_LINE, type ConsoleStreamMessage, type ControlReply, type ControlRequest, type CreatedDomain, type DomainEndReport } from '../../abi/control.ts';

/** Most bytes queued to one attached console client before its output is dropped. */
export const CONSOLE_CLIENT_QUEUE_MAX = 1 << 20;

export class ControlServer {
  private server: Server | null = null;
  private readonly clients = new Set<Socket>();

  constructor(private readonly ts: Toolstack, private readonly onStop: () => void) {}

  async listen(path: string): Promise<void> {
    rmSync(path, { force: true });
    this.server = createServer((s) => this.onClient(s));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private onClient(sock: Socket): void {
    this.clients.add(sock);
    sock.on('close', () => this.clients.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = '';
    const conn: { consoleOf: GuestDomain | null } = { consoleOf: null };
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > CONTROL_MAX_LINE && !buf.includes('\n')) {
        sock.destroy();
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch {
          this.send(sock, { ok: false, error: 'malformed request' });
          continue;
        }
        // Anything but an object (null, a number, a list) is not a request; reading .op off null would throw.
        if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
          if (conn.consoleOf === null) this.send(sock, { ok: false, error: 'malformed request' });
          continue;
        }
        if (conn.consoleOf !== null) {
          const m = msg as { type?: string; data?: string };
          if (m.type === 'input' && typeof m.data === 'string') conn.consoleOf.input(Buffer.from(m.data, 'base64'));
          continue;
        }
        const req = msg as ControlRequest;
        if (req.op === 'console') {
          try {
            conn.consoleOf = this.attachConsole(sock, req, this.ts.find(domainRef(req)));
          } catch (err) {
            this.reply(sock, req, err);
          }
          continue;
        }
        if (req.op === 'create' && req.console === true) {
          void this.create(req).then((g) => { conn.consoleOf = this.attachConsole(sock, req, g); }, (err: unknown) => this.reply(sock, req, err));
          continue;
        }
        void this.handle(req).then((result) => this.reply(sock, req, null, result), (err: unknown) => this.reply(sock, req, err));
      }
    });
  }

  private send(sock: Socket, obj: ControlReply | ConsoleStreamMessage): void {
    if (!sock.destroyed) sock.write(`${JSON.stringify(obj)}\n`);
  }

  private reply(sock: Socket, req: ControlRequest, err: unknown, result?: unknown): void {
    if (err === null) {
      this.send(sock, { id: req.id, ok: true, result });
    } else {
      const message = err instanceof Error ? err.message : String(err);
      this.send(sock, { id: req.id, ok: false, error: message });
    }
  }

  private attachConsole(sock: Socket, req: ControlRequest, g: GuestDomain): GuestDomain {
    const created: CreatedDomain = { domid: g.domid, name: g.name };
    this.send(sock, { id: req.id, ok: true, result: created });
    if (req.backlog !== false) {
      const past = g.backlog();
      if (past.length > 0) this.send(sock, { type: 'output', data: Buffer.from(past).toString('base64') });
    }
    // A client that does not read (a stopped `pvkvm console`, a hung script) must not make dom0
    // queue the guest's output without bound: past CONSOLE_CLIENT_QUEUE_MAX its output is dropped
    // for that client, and a marker line says how much once it reads again. Log and backlog keep it.
    let dropped = 0;
    const onOutput = (bytes: Uint8Array): void => {
      if (sock.writableLength > CONSOLE_CLIENT_QUEUE_MAX) {
        dropped += bytes.length;
        return;
      }
      if (dropped > 0) {
        this.send(sock, { type: 'output', data: Buffer.from(`\r\n[pvkvm: ${dropped} bytes of console output dropped: this client did not keep up]\r\n`).toString('base64') });
        dropped = 0;
      }
      this.send(sock, { type: 'output', data: Buffer.from(bytes).toString('base64') });
    };
    const onEnd = (end: DomainEndReport): void => this.send(sock, { type: 'end', end });
    const onEntry = (atMs: number): void => this.send(sock, { type: 'first-entry', atMs });
    g.on('output', onOutput);
    g.on('end', onEnd);
    g.on('first-entry', onEntry);
    if (g.firstEntryMs > 0) onEntry(g.firstEntryMs);
    sock.on('close', () => {
      g.off('output', onOutput);
      g.off('end', onEnd);
      g.off('first-entry', onEntry);
    });
    if (g.end !== null) onEnd(g.end);
    return g;
  }

  private create(req: ControlRequest): Promise<GuestDomain> {
    const problem = settingsProblem(req.settings);
    if (problem !== null) return Promise.reject(new ToolstackError(problem));
    return this.ts.create(req.settings!);
  }

  private async handle(req: ControlRequest): Promise<unknown> {
    switch (req.op) {
      case 'ping':
        return { pid: process.pid };
      case 'create': {
        const g = await this.create(req);
        return { domid: g.domid, name: g.name };
      }
      case 'save': {
        if (typeof req.file !== 'string' || req.file === '') throw new ToolstackError('save needs a file');
        return this.ts.save(domainRef(req), req.file, req.keep === true);
      }
      case 'restore': {
        if (typeof req.file !== 'string' || req.file === '') throw new ToolstackError('restore needs a file');
        const g = await this.ts.restore(req.file);
        return { domid: g.domid, name: g.name };
      }
      case 'list':
        return this.ts.list({ dom0: req.dom0 === true });
      case 'info':
        return this.ts.info(domainRef(req));
      case 'pause':
        return { pause_count: await this.ts.pause(domainRef(req)) };
      case 'unpause':
        return { pause_count: await this.ts.unpause(domainRef(req)) };
      case 'top':
        return this.ts.top();
      case 'destroy': {
        const g = this.ts.find(domainRef(req));
        const ended = this.ts.waitEnd(g);
        await this.ts.destroy(String(g.domid));
        return ended;
      }
      case 'shutdown': {
        const mode = req.mode === 'reboot' ? 'reboot' : 'poweroff';
        const timeoutMs = Number.isInteger(req.timeoutMs) && req.timeoutMs! > 0 ? req.timeoutMs! : 30_000;
        const ended = this.ts.shutdown(domainRef(req), mode, timeoutMs);
        if (req.wait !== false) return ended;
        // --no-wait: the request is in xenstore and the destroy timer armed; nobody waits for the end.
        ended.catch(() => undefined);
        return {};
      }
      case 'wait':
        return this.ts.waitEnd(this.ts.find(domainRef(req)));
      case 'mem-set':
        return this.ts.memSet(domainRef(req), Number(req.memoryMiB));
      case 'mem-max':
        return this.ts.memMax(domainRef(req), Number(req.memoryMiB));
      case 'vcpu-pin': {
        const vcpu: unknown = req.vcpu;
        const cpus: unknown = req.cpus;
        if (vcpu !== 'all' && !Number.isInteger(vcpu)) throw new ToolstackError("vcpu must be a number or 'all'");
        if (!Array.isArray(cpus) || cpus.length > 1024) throw new ToolstackError('cpus must be a list of CPU numbers');
        return this.ts.vcpuPin(domainRef(req), vcpu as number | 'all', cpus as number[]);
      }
      case 'vcpu-set': {
        const n: unknown = req.vcpus;
        if (!Number.isInteger(n)) throw new ToolstackError('vcpus must be a whole number');
        return this.ts.vcpuSet(domainRef(req), n as number);
      }
      case 'vcpu-list':
        return this.ts.vcpus(this.ts.find(domainRef(req)));
      case 'block-list':
        return this.ts.blockList(domainRef(req));
      case 'block-attach': {
        const problem = diskProblem(req.disk);
        if (problem !== null) throw new ToolstackError(problem);
        const d = req.disk as DiskSetting;
        return this.ts.attachDisk(domainRef(req), { target: d.target, vdev: d.vdev, access: d.access });
      }
      case 'block-detach': {
        const vdev: unknown = req.vdev;
        if (typeof vdev !== 'string' || !/^([a-z]{2,5}|\d{1,9})$/.test(vdev)) throw new ToolstackError('block-detach needs a vdev (xvdb) or a devid');
        return this.ts.detachDisk(domainRef(req), vdev);
      }
      case 'network-attach': {
        const problem = vifProblem(req.vif, { macOptional: true });
        if (problem !== null) throw new ToolstackError(problem);
        return this.ts.attachVif(domainRef(req), req.vif as VifRequest);
      }
      case 'network-detach':
        return this.ts.detachVif(domainRef(req), whichVif(req));
      case 'network-list':
        return this.ts.vifs(this.ts.find(domainRef(req)));
      case 'dmesg': {
        const text = this.ts.log.text();
        if (req.clear === true) this.ts.log.clear();
        return { text };
      }
      case 'stop':
        setImmediate(this.onStop);
        return {};
      default:
        throw new ToolstackError(`unknown request '${req.op}'`);
    }
  }
}

/** network-detach's target from the socket: exactly one of a devid or a lower-case MAC. */
function whichVif(req: ControlRequest): { devid: number } | { mac: string } {
  if (req.devid !== undefined && req.mac === undefined) {
    if (!Number.isInteger(req.devid) || req.devid < 0 || req.devid > MAX_VIF_DEVID) throw new ToolstackError(`devid must be 0..${MAX_VIF_DEVID}`);
    return { devid: req.devid };
  }
  if (req.mac !== undefined && req.devid === undefined) {
    if (typeof req.mac !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(req.mac)) throw new ToolstackError('mac must be xx:xx:xx:xx:xx:xx, lower case');
    return { mac: req.mac };
  }
  throw new ToolstackError('network-detach needs a devid or a mac');
}

/** The domain a request names: a name or an id, as a string (anything else from the socket is refused). */
function domainRef(req: ControlRequest): string {
  const d: unknown = req.domain;
  if (d === undefined || typeof d === 'string') return d ?? '';
  if (typeof d === 'number' && Number.isInteger(d)) return String(d);
  throw new ToolstackError('domain must be a name or an id');
}
