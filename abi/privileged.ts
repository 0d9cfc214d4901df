// privileged.ts: the dom0 ↔ hypervisor privileged interface — protobuf messages (protobufjs), the
// interface version, and typed encode/decode. This is the toolstack ABI: unlike the guest ABI it
// may change between releases, which is what interface_version guards.
//
// Transport (host/frame-connection.ts, host/unix-fds.ts): a Unix stream socket carrying frames of u32-LE length + one encoded
// `Frame`; file descriptors (guest memfd, eventfds) travel on a second, SOCK_SEQPACKET socket by
// SCM_RIGHTS and are sent *before* the Response that announces them in `fd_count`.
import protobuf from 'protobufjs';

/** Bump on any incompatible change; every Request carries it and a mismatch is refused. */
export const INTERFACE_VERSION = 2;

export const PRIVILEGED_PROTO = `
syntax = "proto3";
package pvkvm.privileged;

message Hello { bytes fd_token = 1; uint32 pid = 2; }
message HelloReply { string hypervisor_version = 1; repeated DomainInfo domains = 2; }

message Module { string name = 1; bytes data = 2; }
message CreateDomain {
  string name = 1; bytes kernel = 2; string kernel_name = 3; uint32 memory_mib = 4; uint32 vcpus = 5;
  string cmdline = 6; repeated Module modules = 7;
  bool start_paused = 8;
  // Allocate the console and xenstore event channels (unbound, remote dom0) and set the HVM params.
  bool dom0_rings = 9;
  // Full-virtualization comparator: emulated ATA disks (primary channel) and a 16550 UART console.
  repeated EmulatedDisk emulated_disks = 10;
  bool uart_console = 11;
  // Emulated NE2000s (ISA 0x300, IRQ 9): the reply carries dom0's end of each one's frame socket
  // (SOCK_SEQPACKET, one datagram per Ethernet frame) by SCM_RIGHTS, in this order.
  repeated EmulatedNic emulated_nics = 12;
  // Restore instead of boot: the HVSTATE section of a save file (kernel, cmdline and modules are
  // ignored); the domain is built paused and dom0 writes the saved memory before unpausing it.
  bytes restore_state = 13;
}
message EmulatedDisk { string path = 1; bool readonly = 2; }
message EmulatedNic { bytes mac = 1; }
// A suspended domain's hypervisor state (docs/save-format.md, HVSTATE), memory excluded.
message SavedState { bytes state = 1; }
message ConsoleInput { uint32 domid = 1; bytes data = 2; }
message CreateReply {
  DomainInfo info = 1;
  uint32 console_port = 2; uint32 store_port = 3; uint64 console_pfn = 4; uint64 store_pfn = 5;
}

message DomainRef { uint32 domid = 1; }
message ShutdownRequest { uint32 domid = 1; uint32 reason = 2; }
message ExitCount { string reason = 1; uint64 count = 2; }
message DomainInfo {
  uint32 domid = 1; string name = 2; string state = 3; uint32 vcpus = 4; uint64 memory_bytes = 5;
  double uptime_s = 6; repeated ExitCount exits = 7; repeated ExitCount hypercalls = 8; bytes uuid = 9;
  // The vCPUs that are up (Xen's: not _VPF_down): vCPU 0 from boot, others once VCPUOP_up'd and
  // until VCPUOP_down. vcpus counts every vCPU the domain has (xl's maxvcpus).
  repeated uint32 online_vcpus = 10;
}
message DomainList { repeated DomainInfo domains = 1; }

message ParamRequest { uint32 domid = 1; uint32 index = 2; }
message ParamValue { uint64 value = 1; }
message SetParam { uint32 domid = 1; uint32 index = 2; uint64 value = 3; }

// dom0 side of an event channel: binds the guest's unbound port (remote dom0). Reply carries two
// eventfds by SCM_RIGHTS: [0] signalled when the guest sends (an ioeventfd, no user-space exit),
// [1] written by dom0 to raise the guest's port. The channel number stays dom0's until dom0 unbinds
// it, even after the guest died (as a Xen dom0 port): only then may another bind reuse it.
message BindInterdomain { uint32 domid = 1; uint32 remote_port = 2; }
message Channel { uint32 channel = 1; uint32 domid = 2; uint32 guest_port = 3; }
message ChannelRef { uint32 channel = 1; }
message AllocUnbound { uint32 domid = 1; }
message Port { uint32 port = 1; }

// The guest's memory file (by SCM_RIGHTS) and where things are in it.
message MemoryLayout {
  uint64 mem_bytes = 1; uint64 ram_bytes = 2; uint64 special_gpa = 3; uint64 special_offset = 4;
  uint32 special_pages = 5;
}

// Batched grant operations by dom0 on guest grants (docs/xen-abi.md §6). A map pins the entry
// (GTF_reading/GTF_writing) and answers the frame's offset in the guest's memory file.
message GrantMapOp { uint32 domid = 1; uint32 ref = 2; bool readonly = 3; }
message GrantMapResult { int32 status = 1; uint32 handle = 2; uint64 offset = 3; }
message GrantMapBatch { repeated GrantMapOp ops = 1; }
message GrantMapReply { repeated GrantMapResult results = 1; }
message GrantUnmapBatch { repeated uint32 handles = 1; }
message GrantUnmapReply { repeated int32 status = 1; }

message Request {
  uint32 interface_version = 1;
  uint32 id = 2;
  oneof op {
    Hello hello = 10;
    CreateDomain create = 11;
    DomainRef destroy = 12;
    DomainRef pause = 13;
    DomainRef unpause = 14;
    ShutdownRequest shutdown = 15;
    DomainRef info = 16;
    DomainRef list = 17;
    ParamRequest get_param = 18;
    SetParam set_param = 19;
    BindInterdomain bind_interdomain = 20;
    ChannelRef unbind = 21;
    AllocUnbound alloc_unbound = 22;
    DomainRef map_memory = 23;
    GrantMapBatch grant_map = 24;
    GrantUnmapBatch grant_unmap = 25;
    ConsoleInput console_input = 26;
    // A domain in state 'suspended' (it called SCHEDOP_shutdown(SHUTDOWN_suspend)): its state.
    DomainRef save_state = 27;
    // Cancel a suspend: the domain runs on and its suspend hypercall returns 1 (save -c).
    DomainRef resume = 28;
    // dom0 is about to ask the guest to suspend for a save: park it then (otherwise a suspend
    // ends the domain with SHUTDOWN_suspend, as a suspend nobody asked for does under xl).
    DomainRef expect_suspend = 29;
  }
}

message Response {
  uint32 id = 1;
  // 0 or a positive errno; message says what went wrong, for one clear error line.
  int32 errno = 2;
  string error = 3;
  uint32 fd_count = 4;
  oneof body {
    HelloReply hello = 10;
    CreateReply created = 11;
    DomainInfo info = 12;
    DomainList list = 13;
    ParamValue param = 14;
    Channel channel = 15;
    Port port = 16;
    MemoryLayout memory = 17;
    GrantMapReply grant_map = 18;
    GrantUnmapReply grant_unmap = 19;
    SavedState saved = 20;
  }
}

// Lifecycle stream, hypervisor → dom0.
message DomainEnd {
  string kind = 1;      // shutdown | fault | destroyed
  uint32 reason = 2;    // SHUTDOWN_* for kind = shutdown
  string detail = 3;    // fault description or why it was destroyed
  uint32 fault_vcpu = 4; string fault_kind = 5; string fault_rip = 6;
}
message Event {
  uint32 domid = 1;
  double at_ms = 2;             // console_io: when the guest wrote it (CLOCK_MONOTONIC ms), so dom0 can order it against the PV console
  oneof what {
    string state = 10;          // running | paused | suspending | suspended | shutdown | dying
    DomainEnd dead = 11;        // every resource of the domain is gone
    bytes console_io = 12;      // the hypervisor console: console_io(CONSOLEIO_write) and port 0xE9
    double first_entry_ms = 13; // epoch ms the boot vCPU first entered the guest
    bytes uart_output = 14;     // what the guest wrote to its emulated UART (its console)
  }
}

message Frame {
  oneof kind { Request request = 1; Response response = 2; Event event = 3; }
}
`;

const root = protobuf.parse(PRIVILEGED_PROTO, { keepCase: true }).root;
const FrameType = root.lookupType('pvkvm.privileged.Frame');

// ---- TypeScript views of the messages (what decode() returns with defaults filled in) ----

export interface DomainInfoMsg {
  domid: number; name: string; state: string; vcpus: number; memory_bytes: number; uptime_s: number;
  exits: { reason: string; count: number }[]; hypercalls: { reason: string; count: number }[]; uuid: Uint8Array;
  online_vcpus: number[];
}
export interface CreateDomainMsg {
  name: string; kernel: Uint8Array; kernel_name: string; memory_mib: number; vcpus: number; cmdline: string;
  modules: { name: string; data: Uint8Array }[]; start_paused: boolean; dom0_rings: boolean;
  emulated_disks?: { path: string; readonly: boolean }[]; uart_console?: boolean;
  emulated_nics?: { mac: Uint8Array }[];
  restore_state?: Uint8Array;
}
export interface CreateReplyMsg {
  info: DomainInfoMsg; console_port: number; store_port: number; console_pfn: number; store_pfn: number;
}
export interface MemoryLayoutMsg {
  mem_bytes: number; ram_bytes: number; special_gpa: number; special_offset: number; special_pages: number;
}
export interface ChannelMsg { channel: number; domid: number; guest_port: number }
export interface GrantMapOpMsg { domid: number; ref: number; readonly: boolean }
export interface GrantMapResultMsg { status: number; handle: number; offset: number }
export interface DomainEndMsg {
  kind: string; reason: number; detail: string; fault_vcpu: number; fault_kind: string; fault_rip: string;
}

export type RequestOp =
  | { op: 'hello'; hello: { fd_token: Uint8Array; pid: number } }
  | { op: 'create'; create: CreateDomainMsg }
  | { op: 'destroy' | 'pause' | 'unpause' | 'info' | 'list' | 'map_memory'; destroy?: { domid: number };
      pause?: { domid: number }; unpause?: { domid: number }; info?: { domid: number }; list?: { domid: number };
      map_memory?: { domid: number } }
  | { op: 'save_state'; save_state: { domid: number } }
  | { op: 'resume'; resume: { domid: number } }
  | { op: 'expect_suspend'; expect_suspend: { domid: number } }
  | { op: 'shutdown'; shutdown: { domid: number; reason: number } }
  | { op: 'get_param'; get_param: { domid: number; index: number } }
  | { op: 'set_param'; set_param: { domid: number; index: number; value: number } }
  | { op: 'bind_interdomain'; bind_interdomain: { domid: number; remote_port: number } }
  | { op: 'unbind'; unbind: { channel: number } }
  | { op: 'alloc_unbound'; alloc_unbound: { domid: number } }
  | { op: 'grant_map'; grant_map: { ops: GrantMapOpMsg[] } }
  | { op: 'grant_unmap'; grant_unmap: { handles: number[] } }
  | { op: 'console_input'; console_input: { domid: number; data: Uint8Array } };

export type Request = { interface_version: number; id: number } & RequestOp;

export type ResponseBody =
  | { body?: undefined }
  | { body: 'hello'; hello: { hypervisor_version: string; domains: DomainInfoMsg[] } }
  | { body: 'created'; created: CreateReplyMsg }
  | { body: 'info'; info: DomainInfoMsg }
  | { body: 'list'; list: { domains: DomainInfoMsg[] } }
  | { body: 'param'; param: { value: number } }
  | { body: 'channel'; channel: ChannelMsg }
  | { body: 'port'; port: { port: number } }
  | { body: 'memory'; memory: MemoryLayoutMsg }
  | { body: 'grant_map'; grant_map: { results: GrantMapResultMsg[] } }
  | { body: 'grant_unmap'; grant_unmap: { status: number[] } }
  | { body: 'saved'; saved: { state: Uint8Array } };

export type Response = { id: number; errno: number; error: string; fd_count: number } & ResponseBody;

export type EventWhat =
  | { what: 'state'; state: string }
  | { what: 'dead'; dead: DomainEndMsg }
  | { what: 'console_io'; console_io: Uint8Array }
  | { what: 'uart_output'; uart_output: Uint8Array }
  | { what: 'first_entry_ms'; first_entry_ms: number };

/** `at_ms`: see the proto comment (0 or absent when not stamped). */
export type Event = { domid: number; at_ms?: number } & EventWhat;

export type Frame =
  | { kind: 'request'; request: Request }
  | { kind: 'response'; response: Response }
  | { kind: 'event'; event: Event };

/** Encode one frame's protobuf body (without the length prefix). */
export function encodeFrame(frame: Frame): Uint8Array {
  const msg = FrameType.fromObject(frame as unknown as Record<string, unknown>);
  return FrameType.encode(msg).finish();
}

/**
 * Decode a frame body. Throws on malformed input; 64-bit fields come back as JS numbers (the
 * values here — memory sizes, offsets, counters — stay far below 2^53).
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  const msg = FrameType.decode(bytes);
  return FrameType.toObject(msg, {
    longs: Number, enums: Number, bytes: Uint8Array as unknown as StringConstructor, defaults: true, oneofs: true, arrays: true,
  }) as Frame;
}
