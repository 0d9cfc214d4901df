// privileged-service.ts: the hypervisor's side of the privileged interface — each dom0 request
// turned into an operation on the Hypervisor, with an errno and one-line message on failure.
import { INTERFACE_VERSION, type DomainInfoMsg, type Request, type Response, type ResponseBody } from '../../abi/privileged.ts';
import { HVM_PARAM, HVM_NR_PARAMS } from '../../abi/hvm.ts';
import { ImageError } from '../boot/image-error.ts';
import { PvkvmError } from '../errors.ts';
import type { Hypervisor } from '../domain/hypervisor.ts';
import type { Domain } from '../domain/domain.ts';
import { bindDom0, allocUnboundForDom0, unbindDom0, MAX_DOM0_CHANNELS } from '../events/dom0-channels.ts';
import { PVKVM_VERSION } from '../version.ts';
import { DOM0_MAX_BATCH } from '../grants/dom0-maps.ts';

/** A failed request: errno (positive) and a message for the user. */
export class RequestError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

const ENOENT = 2;
const EINVAL = 22;
const EEXIST = 17;
const EPROTO = 71;
const E2BIG = 7;

/** What a handled request produced: the reply body and fds to send ahead of it. */
export interface Reply {
  readonly body: ResponseBody;
  readonly fds?: readonly number[];
}

export function domainInfo(d: Domain): DomainInfoMsg {
  // Exits are counted live; hypercalls by number are known once the vCPUs have stopped.
  const exits = d.liveExits();
  const hypercalls: Record<string, number> = {};
  for (const s of d.stats()) {
    for (const [k, v] of Object.entries(s.hypercalls)) hypercalls[k] = (hypercalls[k] ?? 0) + v;
  }
  return {
    domid: d.domid, name: d.name, state: d.state, vcpus: d.config.vcpus, memory_bytes: d.ramBytes,
    uptime_s: (Date.now() - d.startedAt) / 1000, uuid: new Uint8Array(d.uuid),
    exits: Object.entries(exits).map(([reason, count]) => ({ reason, count })),
    hypercalls: Object.entries(hypercalls).map(([reason, count]) => ({ reason, count })),
  };
}

export class PrivilegedService {
  constructor(private readonly hv: Hypervisor) {}

  private domain(domid: number): Domain {
    const d = this.hv.domain(domid);
    if (d === undefined) throw new RequestError(ENOENT, `no domain ${domid}`);
    return d;
  }

  /** Handle one request; throws RequestError for a refused one. */
  handle(req: Request): Reply {
    if (req.interface_version !== INTERFACE_VERSION) {
      throw new RequestError(EPROTO, `interface version ${req.interface_version} is not supported (hypervisor speaks ${INTERFACE_VERSION})`);
    }
    switch (req.op) {
      case 'hello':
        return { body: { body: 'hello', hello: { hypervisor_version: PVKVM_VERSION, domains: this.hv.list().map(domainInfo) } } };
      case 'create': return this.create(req.create);
      case 'destroy':
        this.domain(req.destroy!.domid).destroy('destroyed by the toolstack');
        return { body: {} };
      case 'pause':
        this.domain(req.pause!.domid).pause();
        return { body: {} };
      case 'unpause':
        this.domain(req.unpause!.domid).unpause();
        return { body: {} };
      case 'shutdown':
        this.domain(req.shutdown.domid).shutdown(req.shutdown.reason);
        return { body: {} };
      case 'info':
        return { body: { body: 'info', info: domainInfo(this.domain(req.info!.domid)) } };
      case 'list':
        return { body: { body: 'list', list: { domains: this.hv.list().map(domainInfo) } } };
      case 'get_param': {
        const d = this.domain(req.get_param.domid);
        if (req.get_param.index >= HVM_NR_PARAMS) throw new RequestError(EINVAL, `no HVM param ${req.get_param.index}`);
        return { body: { body: 'param', param: { value: Number(d.shared.param(req.get_param.index)) } } };
      }
      case 'set_param': {
        const d = this.domain(req.set_param.domid);
        if (req.set_param.index >= HVM_NR_PARAMS) throw new RequestError(EINVAL, `no HVM param ${req.set_param.index}`);
        d.shared.setParam(req.set_param.index, BigInt(req.set_param.value));
        return { body: {} };
      }
      case 'alloc_unbound': {
        const port = allocUnboundForDom0(this.domain(req.alloc_unbound.domid).events);
        if (port < 0) throw new RequestError(28, 'no free event channel port');
        return { body: { body: 'port', port: { port } } };
      }
      case 'bind_interdomain': {
        const d = this.domain(req.bind_interdomain.domid);
        const b = bindDom0(this.hv.shared, d.events, req.bind_interdomain.remote_port);
        if (typeof b === 'number') {
          throw new RequestError(-b, `cannot bind port ${req.bind_interdomain.remote_port} of domain ${d.domid}`);
        }
        return {
          body: { body: 'channel', channel: { channel: b.channel, domid: d.domid, guest_port: req.bind_interdomain.remote_port } },
          fds: [b.kickFd, b.notifyFd],
        };
      }
      case 'unbind': {
        const c = req.unbind.channel;
        const domid = c > 0 && c < MAX_DOM0_CHANNELS ? this.hv.shared.dom0.guestDomid(c) : -1;
        const d = domid > 0 ? this.hv.domain(domid) : undefined;
        if (!unbindDom0(this.hv.shared, d?.events ?? null, c)) throw new RequestError(EINVAL, `no dom0 channel ${c}`);
        return { body: {} };
      }
      case 'map_memory': {
        const m = this.domain(req.map_memory!.domid).memoryLayout();
        return {
          body: { body: 'memory', memory: {
            mem_bytes: m.memBytes, ram_bytes: m.ramBytes, special_gpa: m.specialGpa, special_offset: m.specialOffset,
            special_pages: m.specialPages,
          } },
          fds: [m.memFd],
        };
      }
      case 'console_input': {
        const d = this.domain(req.console_input.domid);
        if (d.config.uartConsole !== true) throw new RequestError(95, `domain ${d.domid} has no emulated UART`);
        d.consoleInput(req.console_input.data);
        return { body: {} };
      }
      case 'grant_map':
        if (req.grant_map.ops.length > DOM0_MAX_BATCH) throw new RequestError(E2BIG, `at most ${DOM0_MAX_BATCH} grant operations per batch`);
        return { body: { body: 'grant_map', grant_map: { results: this.hv.dom0Grants.map(req.grant_map.ops) } } };
      case 'grant_unmap':
        if (req.grant_unmap.handles.length > DOM0_MAX_BATCH) throw new RequestError(E2BIG, `at most ${DOM0_MAX_BATCH} grant operations per batch`);
        return { body: { body: 'grant_unmap', grant_unmap: { status: this.hv.dom0Grants.unmap(req.grant_unmap.handles) } } };
      default:
        throw new RequestError(EINVAL, 'unknown request');
    }
  }

  private create(c: Extract<Request, { op: 'create' }>['create']): Reply {
    if (this.hv.list().some((d) => d.name === c.name)) throw new RequestError(EEXIST, `a domain named '${c.name}' already exists`);
    let d: Domain;
    try {
      d = this.hv.createDomain({
        name: c.name, kernel: c.kernel, kernelName: c.kernel_name || c.name, memoryMiB: c.memory_mib, vcpus: c.vcpus,
        cmdline: c.cmdline, modules: c.modules.map((m) => ({ name: m.name, data: m.data })),
        startPaused: c.start_paused, dom0Rings: c.dom0_rings,
        emulatedDisks: (c.emulated_disks ?? []).map((d) => ({ path: d.path, readonly: d.readonly })),
        uartConsole: c.uart_console === true,
      });
    } catch (err) {
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
    };
  }
}

/** Turn a thrown error into a Response (bugs keep their message; the daemon logs the stack). */
export function errorResponse(id: number, err: unknown): Response {
  if (err instanceof RequestError) return { id, errno: err.errno, error: err.message, fd_count: 0 };
  return { id, errno: 5, error: `internal error: ${err instanceof Error ? err.message : String(err)}`, fd_count: 0 };
}
