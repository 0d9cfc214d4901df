// privileged-service.ts: the hypervisor's side of the privileged interface — each dom0 request
// turned into an operation on the Hypervisor, with an errno and one-line message on failure.
import { constants as osConstants } from 'node:os';
import { INTERFACE_VERSION, type DomainInfoMsg, type Request, type Response, type ResponseBody } from '../../abi/privileged.ts';
import { HVM_PARAM, HVM_NR_PARAMS } from '../../abi/hvm.ts';
import { ImageError } from '../boot/image-error.ts';
import { PvkvmError } from '../../host/errors.ts';
import type { Hypervisor } from '../domain/hypervisor.ts';
import type { Domain } from '../domain/domain.ts';
import { bindDom0, allocUnboundForDom0, unbindDom0 } from '../events/dom0-channels.ts';
import { PVKVM_VERSION } from '../../abi/pvkvm-version.ts';
import { DOM0_MAX_BATCH } from '../grants/dom0-maps.ts';
import { decodeSnapshot, encodeSnapshot, SnapshotError, type DomainSnapshot } from '../domain/snapshot-codec.ts';
import { validateRamSize } from '../boot/pvh-layout.ts';
import { poolOffsetFor, POOL_PAGES } from '../memory/memfd-layout.ts';
import { PAGE_SIZE } from '../memory/regions.ts';

/** A failed request: errno (positive) and a message for the user. */
export class RequestError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

// The privileged interface reports host errno values (it is a Unix-socket protocol, not the guest ABI).
const { ENOENT, EINVAL, EEXIST, EPROTO, E2BIG, ENOSPC, EOPNOTSUPP, EIO } = osConstants.errno;

/** What a handled request produced: the reply body and fds to send ahead of it. */
export interface Reply {
  readonly body: ResponseBody;
  readonly fds?: readonly number[];
}

export function domainInfo(d: Domain): DomainInfoMsg {
  // Both counted live by the vCPU threads in shared memory.
  const exits = d.liveExits();
  const hypercalls = d.liveHypercalls();
  return {
    domid: d.domid, name: d.name, state: d.state, vcpus: d.config.vcpus, memory_bytes: d.ramBytes,
    uptime_s: (Date.now() - d.startedAt) / 1000, uuid: new Uint8Array(d.uuid), online_vcpus: d.onlineVcpus(),
    exits: Object.entries(exits).map(([reason, count]) => ({ reason, count })),
    hypercalls: Object.entries(hypercalls).map(([reason, count]) => ({ reason, count })),
  };
}

/** One request narrowed to its op. */
type RequestOf<K extends Request['op']> = Request & { op: K };

export class PrivilegedService {
  constructor(readonly hv: Hypervisor) {}

  domain(domid: number): Domain {
    const d = this.hv.domain(domid);
    if (d === undefined) throw new RequestError(ENOENT, `no domain ${domid}`);
    return d;
  }

  /** Handle one request; throws RequestError for a refused one. */
  handle(req: Request): Reply {
    if (req.interface_version !== INTERFACE_VERSION) {
      throw new RequestError(EPROTO, `interface version ${req.interface_version} is not supported (hypervisor speaks ${INTERFACE_VERSION})`);
    }
    // The op came off the wire: look it up as an arbitrary string, own properties only.
    const ops = PrivilegedService.ops as Readonly<Record<string, (svc: PrivilegedService, req: never) => Reply>>;
    if (!Object.hasOwn(ops, req.op)) throw new RequestError(EINVAL, 'unknown request');
    return ops[req.op]!(this, req as never);
  }

  /** The fixed operation table: one handler per request op, in the order abi/privileged.ts lists them. */
  static readonly ops: { readonly [K in Request['op']]: (svc: PrivilegedService, req: RequestOf<K>) => Reply } = {
    hello: (svc) => ({ body: { body: 'hello', hello: { hypervisor_version: PVKVM_VERSION, domains: svc.hv.list().map(domainInfo) } } }),
    create: (svc, req) => svc.create(req.create),
    destroy: (svc, req) => {
      svc.domain(req.destroy!.domid).destroy('destroyed by the toolstack');
      return { body: {} };
    },
    pause: (svc, req) => {
      svc.domain(req.pause!.domid).pause();
      return { body: {} };
    },
    unpause: (svc, req) => {
      svc.domain(req.unpause!.domid).unpause();
      return { body: {} };
    },
    shutdown: (svc, req) => {
      svc.domain(req.shutdown.domid).shutdown(req.shutdown.reason);
      return { body: {} };
    },
    info: (svc, req) => ({ body: { body: 'info', info: domainInfo(svc.domain(req.info!.domid)) } }),
    list: (svc) => ({ body: { body: 'list', list: { domains: svc.hv.list().map(domainInfo) } } }),
    get_param: (svc, req) => {
      const d = svc.domain(req.get_param.domid);
      if (req.get_param.index >= HVM_NR_PARAMS) throw new RequestError(EINVAL, `no HVM param ${req.get_param.index}`);
      return { body: { body: 'param', param: { value: Number(d.shared.param(req.get_param.index)) } } };
    },
    set_param: (svc, req) => {
      const d = svc.domain(req.set_param.domid);
      if (req.set_param.index >= HVM_NR_PARAMS) throw new RequestError(EINVAL, `no HVM param ${req.set_param.index}`);
      d.shared.setParam(req.set_param.index, BigInt(req.set_param.value));
      return { body: {} };
    },
    alloc_unbound: (svc, req) => {
      const port = allocUnboundForDom0(svc.domain(req.alloc_unbound.domid).events);
      if (port < 0) throw new RequestError(ENOSPC, 'no free event channel port');
      return { body: { body: 'port', port: { port } } };
    },
    bind_interdomain: (svc, req) => {
      const d = svc.domain(req.bind_interdomain.domid);
      const b = bindDom0(svc.hv.shared, d.events, req.bind_interdomain.remote_port);
      if (typeof b === 'number') {
        throw new RequestError(-b, `cannot bind port ${req.bind_interdomain.remote_port} of domain ${d.domid}`);
      }
      return {
        body: { body: 'channel', channel: { channel: b.channel, domid: d.domid, guest_port: req.bind_interdomain.remote_port } },
        fds: [b.kickFd, b.notifyFd],
      };
    },
    unbind: (svc, req) => {
      const c = req.unbind.channel;
      const domid = svc.hv.shared.dom0.inRange(c) ? svc.hv.shared.dom0.guestDomid(c) : -1;
      const d = domid > 0 ? svc.hv.domain(domid) : undefined;
      if (!unbindDom0(svc.hv.shared, d?.events ?? null, c)) throw new RequestError(EINVAL, `no dom0 channel ${c}`);
      return { body: {} };
    },
    map_memory: (svc, req) => {
      const m = svc.domain(req.map_memory!.domid).memoryLayout();
      return {
        body: { body: 'memory', memory: {
          mem_bytes: m.memBytes, ram_bytes: m.ramBytes, special_gpa: m.specialGpa, special_offset: m.specialOffset,
          special_pages: m.specialPages,
        } },
        fds: [m.memFd],
      };
    },
    console_input: (svc, req) => {
      const d = svc.domain(req.console_input.domid);
      if (d.config.uartConsole !== true) throw new RequestError(EOPNOTSUPP, `domain ${d.domid} has no emulated UART`);
      d.consoleInput(req.console_input.data);
      return { body: {} };
    },
    save_state: (svc, req) => {
      const d = svc.domain(req.save_state.domid);
      try {
        return { body: { body: 'saved', saved: { state: encodeSnapshot(d.captureSnapshot()) } } };
      } catch (err) {
        if (err instanceof SnapshotError || err instanceof PvkvmError) throw new RequestError(EINVAL, `cannot save domain ${d.domid}: ${err.message}`);
        throw err;
      }
    },
    expect_suspend: (svc, req) => {
      svc.domain(req.expect_suspend.domid).expectSuspend();
      return { body: {} };
    },
    resume: (svc, req) => {
      svc.domain(req.resume.domid).cancelSuspend();
      return { body: {} };
    },
    grant_map: (svc, req) => {
      if (req.grant_map.ops.length > DOM0_MAX_BATCH) throw new RequestError(E2BIG, `at most ${DOM0_MAX_BATCH} grant operations per batch`);
      return { body: { body: 'grant_map', grant_map: { results: svc.hv.dom0Grants.map(req.grant_map.ops) } } };
    },
    grant_unmap: (svc, req) => {
      if (req.grant_unmap.handles.length > DOM0_MAX_BATCH) throw new RequestError(E2BIG, `at most ${DOM0_MAX_BATCH} grant operations per batch`);
      return { body: { body: 'grant_unmap', grant_unmap: { status: svc.hv.dom0Grants.unmap(req.grant_unmap.handles) } } };
    },
  };

  create(c: Extract<Request, { op: 'create' }>['create']): Reply {
    if (this.hv.list().some((d) => d.name === c.name)) throw new RequestError(EEXIST, `a domain named '${c.name}' already exists`);
    let d: Domain;
    try {
      let restore: DomainSnapshot | undefined;
      if (c.restore_state !== undefined && c.restore_state.length > 0) {
        const ramBytes = validateRamSize(c.memory_mib);
        const poolOffset = poolOffsetFor(ramBytes);
        restore = decodeSnapshot(c.restore_state, { ramBytes, poolOffset, poolPages: POOL_PAGES, memBytes: poolOffset + POOL_PAGES * PAGE_SIZE });
      }
      d = this.hv.createDomain({ restore,
        name: c.name, kernel: c.kernel, kernelName: c.kernel_name || c.name, memoryMiB: c.memory_mib, vcpus: c.vcpus,
        cmdline: c.cmdline, modules: c.modules.map((m) => ({ name: m.name, data: m.data })),
        startPaused: c.start_paused, dom0Rings: c.dom0_rings,
        emulatedDisks: (c.emulated_disks ?? []).map((d) => ({ path: d.path, readonly: d.readonly })),
        uartConsole: c.uart_console === true,
        emulatedNics: (c.emulated_nics ?? []).map((n) => ({ mac: [...n.mac] })),
      });
    } catch (err) {
      if (err instanceof SnapshotError) throw new RequestError(EINVAL, `bad saved state: ${err.message}`);
      if (err instanceof ImageError || err instanceof PvkvmError || err instanceof RangeError) throw new RequestError(EINVAL, err.message);
      throw err;
    }
    return {
      body: { body: 'created', created: {
        info: domainInfo(d),
        console_port: Number(d.shared.param(HVM_PARAM.values.CONSOLE_EVTCHN)),
        store_port: Number(d.shared.param(HVM_PARAM.values.STORE_EVTCHN)),
        console_pfn: Number(d.shared.param(HVM_PARAM.values.CONSOLE_PFN)),
        store_pfn: Number(d.shared.param(HVM_PARAM.values.STORE_PFN)),
      } },
      // dom0's ends of the emulated NICs' frame sockets (the domain keeps its copies until release).
      fds: d.nicDom0Fds,
    };
  }
}

/** Turn a thrown error into a Response (bugs keep their message; the daemon logs the stack). */
export function errorResponse(id: number, err: unknown): Response {
  if (err instanceof RequestError) return { id, errno: err.errno, error: err.message, fd_count: 0 };
  return { id, errno: EIO, error: `internal error: ${err instanceof Error ? err.message : String(err)}`, fd_count: 0 };
}
