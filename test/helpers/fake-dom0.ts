// fake-dom0.ts: the toolstack and its control socket without KVM — a fake hypervisor client
// (memfd guest pages, eventfd channels, deaths on demand), a fake event listener, a real
// xenstored, and a NetBackend that records every call — so tests can drive vifs through the
// toolstack and the CLI.
import { EventEmitter } from 'eventemitter3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libc, MFD_CLOEXEC, EFD_CLOEXEC, EFD_NONBLOCK } from '../../host/libc.ts';
import { Xenstored } from '../../dom0/xenstore/xenstored.ts';
import { Toolstack, type NetBackend } from '../../dom0/toolstack/toolstack.ts';
import { ControlServer } from '../../dom0/toolstack/control-server.ts';
import { runDirPath } from '../../abi/run-dir.ts';
import type { DomainEndMsg, RequestOp } from '../../abi/privileged.ts';
import type { VifSetting } from '../../abi/domain-settings.ts';
import type { VifStatus } from '../../abi/control.ts';
import type { HvClient } from '../../dom0/hv-client.ts';
import { seqpacketPair } from '../../host/packet-pair.ts';
import type { EventChannelListener } from '../../dom0/evtchn/event-listener.ts';

const PAGE = 4096;
const SPECIAL_PFN = 0x100;

/** Answers the privileged requests the toolstack makes; domains die when told to. */
export class FakeHv extends EventEmitter<{ event: (ev: unknown) => void }> {
  private nextDomid = 1;
  private nextChannel = 1;
  readonly alive = new Map<number, string>();
  /** The far end of each emulated NIC wire handed to dom0 (reads 0 bytes once dom0 closed its end). */
  readonly nicPeers: number[] = [];

  async request(op: RequestOp): Promise<{ response: Record<string, unknown>; fds: number[] }> {
    const ok = (body: Record<string, unknown> = {}, fds: number[] = []) => ({ response: { id: 0, errno: 0, error: '', fd_count: fds.length, ...body }, fds });
    const info = (domid: number) => ({
      domid, name: this.alive.get(domid) ?? '', state: 'running', vcpus: 1, memory_bytes: 32 << 20, uptime_s: 1,
      exits: [], hypercalls: [], uuid: new Uint8Array(16).fill(domid),
    });
    switch (op.op) {
      case 'create': {
        const domid = this.nextDomid++;
        this.alive.set(domid, op.create.name);
        // As the real hypervisor: one socketpair per emulated NIC, dom0's end passed with the reply.
        const nicFds = (op.create.emulated_nics ?? []).map(() => {
          const [mine, dom0] = seqpacketPair();
          this.nicPeers.push(mine);
          return dom0;
        });
        return ok({ body: 'created', created: { info: info(domid), console_port: 1, store_port: 2, console_pfn: SPECIAL_PFN, store_pfn: SPECIAL_PFN + 1 } }, nicFds);
      }
      case 'map_memory': {
        const fd = libc.memfdCreate('fake-guest', MFD_CLOEXEC);
        libc.ftruncate(fd, 2 * PAGE);
        return ok({ body: 'memory', memory: { mem_bytes: 2 * PAGE, ram_bytes: 0, special_gpa: SPECIAL_PFN * PAGE, special_offset: 0, special_pages: 2 } }, [fd]);
      }
      case 'bind_interdomain':
        return ok({ body: 'channel', channel: { channel: this.nextChannel++, domid: op.bind_interdomain.domid, guest_port: op.bind_interdomain.remote_port } },
          [libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)]);
      case 'destroy':
        this.kill(op.destroy!.domid, { kind: 'destroyed', reason: 0, detail: 'destroyed', fault_vcpu: 0, fault_kind: '', fault_rip: '' });
        return ok();
      case 'info':
        return ok({ body: 'info', info: info(op.info!.domid) });
      case 'list':
        return ok({ body: 'list', list: { domains: [...this.alive.keys()].map(info) } });
      default:
        return ok();
    }
  }

  call(op: RequestOp): Promise<{ response: Record<string, unknown>; fds: number[] }> {
    return this.request(op);
  }

  /** The domain ends as the hypervisor would report it (later, as an event). */
  kill(domid: number, end: DomainEndMsg): void {
    if (!this.alive.delete(domid)) return;
    setImmediate(() => this.emit('event', { domid, what: 'dead', dead: end }));
  }

  /** The guest shut down with SHUTDOWN_* `reason` (1: reboot). */
  shutdown(domid: number, reason: number): void {
    this.kill(domid, { kind: 'shutdown', reason, detail: '', fault_vcpu: 0, fault_kind: '', fault_rip: '' });
  }
}

/** Takes the kick eventfds and never fires (nothing in these tests signals a ring). */
class FakeListener {
  private readonly fds = new Map<number, number>();
  private next = 0;
  watch(fd: number): number {
    this.fds.set(++this.next, fd);
    return this.next;
  }
  unwatch(h: number): void {
    const fd = this.fds.get(h);
    if (fd !== undefined) libc.close(fd);
    this.fds.delete(h);
  }
}

export type NetCall = [op: 'addVif' | 'addEmulatedNic' | 'removeVif' | 'removeDomain', domid: number, devid?: number, vif?: VifSetting];

/** A NetBackend that records its calls and serves vifs as "Connected"; `failNext` makes addVif refuse once. */
export class RecordingNet implements NetBackend {
  readonly calls: NetCall[] = [];
  private readonly served = new Map<string, VifStatus>();
  failNext: string | null = null;

  async addVif(domid: number, devid: number, vif: VifSetting): Promise<void> {
    this.calls.push(['addVif', domid, devid, vif]);
    if (this.failNext !== null) {
      const msg = this.failNext;
      this.failNext = null;
      throw new Error(msg);
    }
    this.served.set(`${domid}/${devid}`, {
      domid, devid, mac: vif.mac, bridge: vif.bridge ?? null, tap: `vif${domid}.${devid}`, state: 'Connected',
      counters: { txPackets: 3, txBytes: 180, txDropped: 0, txErrors: 0, rxPackets: 2, rxBytes: 120, rxDropped: 1 },
    });
  }

  /** Takes the wire's fd (closed with the domain, as netback does) and serves it as an NE2000 port. */
  async addEmulatedNic(domid: number, devid: number, vif: VifSetting, fd: number): Promise<void> {
    this.calls.push(['addEmulatedNic', domid, devid, vif]);
    this.nicFds.set(`${domid}/${devid}`, fd);
    this.served.set(`${domid}/${devid}`, {
      domid, devid, mac: vif.mac, bridge: null, tap: null, state: 'Connected', model: 'ne2k_isa',
      counters: { txPackets: 5, txBytes: 300, txDropped: 0, txErrors: 0, rxPackets: 4, rxBytes: 240, rxDropped: 2 },
    });
  }

  private readonly nicFds = new Map<string, number>();

  async removeVif(domid: number, devid: number): Promise<void> {
    this.calls.push(['removeVif', domid, devid]);
    this.served.delete(`${domid}/${devid}`);
  }

  async removeDomain(domid: number): Promise<void> {
    this.calls.push(['removeDomain', domid]);
    for (const k of [...this.served.keys()]) if (k.startsWith(`${domid}/`)) this.served.delete(k);
    for (const [k, fd] of [...this.nicFds]) if (k.startsWith(`${domid}/`)) { libc.close(fd); this.nicFds.delete(k); }
  }

  list(domid?: number): VifStatus[] {
    return [...this.served.values()].filter((s) => domid === undefined || s.domid === domid);
  }
}

export interface FakeDom0 {
  readonly hv: FakeHv;
  readonly net: RecordingNet | undefined;
  readonly ts: Toolstack;
  /** A run directory whose dom0.sock is this toolstack's control socket. */
  readonly runDir: string;
  readonly log: string[];
  close(): Promise<void>;
}

/** A toolstack on fakes, serving its control socket in a fresh run directory. */
export async function fakeDom0(opts: { net?: boolean } = {}): Promise<FakeDom0> {
  const hv = new FakeHv();
  const net = opts.net === false ? undefined : new RecordingNet();
  const xs = new Xenstored();
  const runDir = mkdtempSync(join(tmpdir(), 'pvkvm-fake-dom0-'));
  const log: string[] = [];
  const ts = new Toolstack(hv as unknown as HvClient, xs, new FakeListener() as unknown as EventChannelListener, {
    stateDir: join(runDir, 'domains'), log: (l) => log.push(l), net,
  });
  const control = new ControlServer(ts, () => undefined);
  await control.listen(runDirPath(runDir, 'controlSocket'));
  return {
    hv, net, ts, runDir, log,
    async close() {
      await ts.destroyAll();
      await control.close();
      await xs.close();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}
