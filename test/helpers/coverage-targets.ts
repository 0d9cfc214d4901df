// coverage-targets.ts: what the coverage-guided fuzzer (coverage-fuzz.ts) feeds hostile bytes to —
// the parsers and handlers dom0 and the hypervisor run on guest or peer input — each with the
// invariants it must keep: only its documented error, and answers that are well-formed and bounded.
import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import type { CoverageTarget } from './coverage-fuzz.ts';
import { ROOT } from './run-guest.ts';
import { FrameParser, FrameTooLong, HEADER_SIZE, PAYLOAD_MAX, encodeMsg } from '../../dom0/xenstore/wire.ts';
import { Xenstored } from '../../dom0/xenstore/xenstored.ts';
import { Connection } from '../../dom0/xenstore/connection.ts';
import { XS } from '../../abi/io/xs-wire.ts';
import { decodeFrame, encodeFrame, INTERFACE_VERSION, type Frame } from '../../abi/privileged.ts';
import { FrameConnection } from '../../host/frame-connection.ts';
import { SaveFileError, SECTION, fileHeader, forEachRun, readSections, runHeader, sectionHeader } from '../../abi/save-file.ts';
import { ConfigError } from '../../cli/config-error.ts';
import { parseDomainConfig, VCPUS_MAX } from '../../cli/config.ts';
import { parseTxPacket } from '../../dom0/netback/worker/tx-parse.ts';
import { NETTXF } from '../../abi/io/netif.ts';
import { BLKIF_OP, BLKIF_RSP, SECTOR_SIZE, blkifEntrySize, encodeRequest } from '../../dom0/backend-sdk/blkif.ts';
import { resolveBatch, jobResponse } from '../../dom0/backend-sdk/blkif-requests.ts';
import type { RingProtocol } from '../../dom0/backend-sdk/transport.ts';
import type { GrantClient } from '../../dom0/backend-sdk/worker/grants.ts';
import type { GuestMemory } from '../../dom0/backend-sdk/worker/guest-memory.ts';

class Broken extends Error { override name = 'InvariantBroken'; }
function check(ok: boolean, what: string): asserts ok { if (!ok) throw new Broken(what); }

const msg = (type: number, payload: string, tx = 0, req = 7): Buffer => encodeMsg(type, req, tx, Buffer.from(payload, 'latin1'));

// ---- xs_wire framing --------------------------------------------------------------------------

/** Input: byte 0 says where to cut the stream in two (as a ring or socket delivers it in pieces). */
const xsWire: CoverageTarget = {
  name: 'xs-wire',
  files: ['dom0/xenstore/wire.ts'],
  maxLen: 12_000,
  seeds: () => [Buffer.concat([Buffer.from([5]), msg(XS.READ, '/a\0'), msg(XS.WRITE, '/a\0v')])],
  dictionary: [msg(XS.DIRECTORY, '/\0'), Buffer.from([0xff, 0x0f, 0, 0]), Buffer.from([0, 0x10, 0, 0]), Buffer.from([1, 0x10, 0, 0])],
  run(input) {
    const p = new FrameParser();
    const body = input.subarray(1);
    const cut = input.length ? Math.min(body.length, input[0]! * 16) : 0;
    let got = 0;
    try {
      for (const part of [body.subarray(0, cut), body.subarray(cut)]) {
        for (const m of p.push(part)) {
          check(m.payload.length <= PAYLOAD_MAX, 'a payload over PAYLOAD_MAX');
          got += HEADER_SIZE + m.payload.length;
        }
      }
      check(got + p.pending === body.length, `bytes lost: ${got} + ${p.pending} of ${body.length}`);
    } catch (e) {
      if (!(e instanceof FrameTooLong)) throw e;
    }
  },
};

// ---- xenstored request handling ---------------------------------------------------------------

const XS_SEEDS = (): Buffer[] => [
  Buffer.concat([msg(XS.WRITE, '/local/domain/1/data/x\0hello'), msg(XS.READ, '/local/domain/1/data/x\0'), msg(XS.DIRECTORY, '/local/domain/1\0')]),
  Buffer.concat([msg(XS.TRANSACTION_START, '\0'), msg(XS.WRITE, 'data/y\0z', 1), msg(XS.TRANSACTION_END, 'T\0', 1)]),
  Buffer.concat([msg(XS.WATCH, 'data\0tok\0'), msg(XS.MKDIR, 'data/w\0'), msg(XS.RM, 'data/w\0'), msg(XS.UNWATCH, 'data\0tok\0')]),
  Buffer.concat([msg(XS.SET_PERMS, 'data\0b0\0r1\0'), msg(XS.GET_PERMS, 'data\0'), msg(XS.GET_DOMAIN_PATH, '1\0'), msg(XS.DIRECTORY_PART, '/local\0' + '0\0')]),
  Buffer.concat([msg(XS.IS_DOMAIN_INTRODUCED, '1\0'), msg(XS.INTRODUCE, '2\0' + '4096\0' + '5\0'), msg(XS.RESET_WATCHES, ''), msg(XS.GET_QUOTA, '1\0'), msg(XS.CONTROL, 'print\0x\0')]),
];

/**
 * A fresh xenstored; input byte 0 picks the caller (guest 1 or privileged dom0), the rest is a
 * request stream. Every request gets exactly one reply (its own type or ERROR, its req_id) before
 * anything else, replies stay within PAYLOAD_MAX, and no handler throws anything but XsError (the
 * daemon logs those as "xenstored: domN type T: …" and answers EIO).
 */
const xenstored: CoverageTarget = {
  name: 'xenstored',
  files: ['dom0/xenstore/'],
  maxLen: 8_000,
  seeds: () => XS_SEEDS().flatMap((s) => [Buffer.concat([Buffer.from([0]), s]), Buffer.concat([Buffer.from([1]), s])]),
  dictionary: ['/local/domain/1/', '/local/domain/0/', '@introduceDomain\0', '@releaseDomain\0', '\0', 'data/', '/', 'T\0', 'F\0', 'r0\0', 'n1\0', 'b1\0', 'w5\0',
    ...Object.values(XS).map((t) => Buffer.from([t & 0xff, 0, 0, 0]))],
  run(input) {
    const logged: string[] = [];
    const xsd = new Xenstored({ log: (l) => logged.push(l) });
    const sent: Buffer[] = [];
    const caller = input[0]! & 1 ? { domid: 0, privileged: true } : { domid: 1, privileged: false };
    const conn = new Connection(xsd, caller, (b) => sent.push(b));
    const p = new FrameParser();
    let msgs;
    try { msgs = p.push(input.subarray(1)); } catch (e) { if (e instanceof FrameTooLong) return; throw e; }
    for (const m of msgs) {
      sent.length = 0;
      conn.handle(m);
      check(sent.length >= 1, `no reply to type ${m.type}`);
      const head = sent[0]!;
      const type = head.readUInt32LE(0);
      check(type === m.type || type === XS.ERROR, `reply of type ${type} to ${m.type}`);
      check(head.readUInt32LE(4) === m.reqId, 'req_id not echoed');
      for (const s of sent) check(s.length - HEADER_SIZE <= PAYLOAD_MAX && s.readUInt32LE(12) === s.length - HEADER_SIZE, 'a malformed or oversized message out');
      check(logged.every((l) => !/^xenstored: dom\d+ type \d+:/.test(l)), `a handler threw: ${logged.join(' | ')}`);
    }
  },
};

// ---- the privileged interface's frames --------------------------------------------------------

const frameSeeds = (): Frame[] => [
  { kind: 'request', request: { interface_version: INTERFACE_VERSION, id: 1, op: 'list', list: {} } as unknown as Frame extends { kind: 'request'; request: infer R } ? R : never },
  { kind: 'request', request: { interface_version: INTERFACE_VERSION, id: 2, op: 'create', create: { name: 'g', kernel: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]), kernel_name: 'k', memory_mib: 32, vcpus: 1, cmdline: 'x', modules: [] } } as unknown as Frame extends { kind: 'request'; request: infer R } ? R : never },
  { kind: 'response', response: { id: 1, errno: 0, error: '', fd_count: 0, body: 'param', param: { value: 7 } } },
  { kind: 'event', event: { domid: 3, at_ms: 5, what: 'state', state: 'running' } },
];

class FakeSocket extends EventEmitter {
  destroyed = false;
  write(): boolean { return true; }
  destroy(): void { this.destroyed = true; }
}

/**
 * Length-prefixed frames through FrameConnection (cut where byte 0 says): every frame out decodes
 * and re-encodes to the same frame, and a bad stream closes the connection, never throws.
 */
const privilegedFrames: CoverageTarget = {
  name: 'privileged-frames',
  files: ['abi/privileged.ts', 'host/frame-connection.ts', 'protobufjs'],
  maxLen: 4_000,
  seeds: () => frameSeeds().map((f) => {
    const body = Buffer.from(encodeFrame(f));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    return Buffer.concat([Buffer.from([3]), head, body]);
  }),
  dictionary: [Buffer.from([0, 0, 0, 0x40]), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0x08, 0x02]), Buffer.from([0x0a]), Buffer.from([0x12]), Buffer.from([0x1a]), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10])],
  run(input) {
    const sock = new FakeSocket();
    const fc = new FrameConnection(sock as unknown as Socket);
    let closed = false;
    fc.on('close', () => { closed = true; });
    fc.on('frame', (f) => {
      check(!closed, 'a frame after the connection closed');
      const again = decodeFrame(encodeFrame(f));
      check(isDeepStrictEqual(again, f), 'a decoded frame does not survive re-encoding');
    });
    const body = input.subarray(1);
    const cut = input.length ? Math.min(body.length, input[0]!) : 0;
    sock.emit('data', body.subarray(0, cut));
    if (!closed) sock.emit('data', body.subarray(cut));
  },
};

// ---- save files -------------------------------------------------------------------------------

const MEM = 64 * 4096;
function saveSeed(): Buffer {
  const dom = Buffer.from('{"name":"x"}');
  const run = Buffer.concat([Buffer.from(runHeader(2, 1)), Buffer.alloc(4096, 0xaa)]);
  return Buffer.concat([fileHeader(), sectionHeader(SECTION.DOMAIN, dom.length), dom, sectionHeader(SECTION.HVSTATE, 4), Buffer.from('{}  '),
    sectionHeader(SECTION.MEMORY, run.length), run, sectionHeader(SECTION.END, 0)].map((b) => Buffer.from(b)));
}

/** readSections and forEachRun: SaveFileError only; sections and runs inside the file and memory. */
const saveFile: CoverageTarget = {
  name: 'save-file',
  files: ['abi/save-file.ts'],
  maxLen: 16_384,
  seeds: () => [saveSeed()],
  dictionary: ['PVKVMSAV', Buffer.from([4, 0, 0, 0]), Buffer.from([0xff, 0xff, 0, 0]), Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(8, 0xff)],
  run(input) {
    const read = (off: number, len: number): Uint8Array => {
      check(Number.isSafeInteger(off) && off >= 0 && len >= 0 && off + len <= input.length, `read(${off}, ${len}) outside the file`);
      return input.subarray(off, off + len);
    };
    try {
      const secs = readSections(input.length, read, MEM);
      for (const s of secs) check(s.offset + s.length <= input.length, 'a section past the end');
      const mem = secs.find((s) => s.type === SECTION.MEMORY);
      if (mem) {
        forEachRun(mem, read, MEM, (fileOffset, dataOffset, bytes) => {
          check(fileOffset >= 0 && fileOffset + bytes <= MEM, 'a run outside memory');
          check(dataOffset + bytes <= mem.offset + mem.length, 'a run outside its section');
        });
      }
    } catch (e) {
      if (!(e instanceof SaveFileError)) throw e;
    }
  },
};

// ---- xl.cfg -----------------------------------------------------------------------------------

/** parseDomainConfig: ConfigError only, and what it accepts is in range. */
const xlCfg: CoverageTarget = {
  name: 'xl-cfg',
  files: ['cli/config.ts', 'cli/vif-spec.ts', 'cli/vif-rate.ts', 'cli/xl-keys.ts', 'cli/cpu-list.ts'],
  maxLen: 4_000,
  seeds: () => [
    Buffer.from('name = "g"\nkernel = "k.elf"\nmemory = 64\nvcpus = 2\ndisk = [ \'format=raw, vdev=xvda, access=rw, target=d.img\' ]\n' +
      'vif = [ \'mac=00:16:3e:00:00:01, bridge=br0, rate=10Mb/s\' ]\non_crash = "restart"\ncmdline = "a=b"\ncpus = "0-1"\n'),
    readFileSync(join(ROOT, 'test', 'fixtures', 'xl', 'xlexample.pvhlinux')),
  ],
  dictionary: ['name', 'kernel', 'memory', 'maxmem', 'vcpus', 'maxvcpus', 'disk', 'vif', 'on_crash', 'on_poweroff', 'on_reboot', 'on_watchdog', 'cmdline', 'extra', 'ramdisk',
    'cpus', 'console', 'emulated_disk', 'type', '=', '"', "'", '[', ']', ',', '#', '\n', '\\', '0x', '-1', '4294967296', '1e9', 'vdev=', 'target=', 'access=', 'mac=', 'rate=', 'bridge=', 'backend='],
  run(input) {
    try {
      const c = parseDomainConfig(input.toString('latin1'), { file: 'fuzz.cfg', baseDir: '/nonexistent' });
      check(typeof c.name === 'string' && c.name.length > 0, 'an empty name accepted');
      check(Number.isSafeInteger(c.vcpus) && c.vcpus >= 1 && c.vcpus <= VCPUS_MAX, `vcpus ${c.vcpus}`);
      check(Number.isSafeInteger(c.memoryMiB) && c.memoryMiB > 0, `memory ${c.memoryMiB}`);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      check(!e.message.includes('\n'), 'a multi-line config error');
    }
  },
};

// ---- netback TX requests ----------------------------------------------------------------------

const MAX_FRAME = 1514;
function txSlot(gref: number, offset: number, flags: number, id: number, size: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(gref, 0); b.writeUInt16LE(offset, 4); b.writeUInt16LE(flags, 6); b.writeUInt16LE(id, 8); b.writeUInt16LE(size, 10);
  return b;
}

/** parseTxPacket over 12-byte slots, as netback walks a batch: never throws, never loops, segments checked. */
const netbackTx: CoverageTarget = {
  name: 'netback-tx',
  files: ['dom0/netback/worker/tx-parse.ts'],
  maxLen: 12 * 64,
  seeds: () => [Buffer.concat([txSlot(8, 0, NETTXF.values.more_data, 1, 100), txSlot(9, 0, 0, 2, 40), txSlot(10, 100, NETTXF.values.extra_info, 3, 60), Buffer.from([2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), txSlot(11, 0, 0, 4, 60)])],
  run(input) {
    const slots: Uint8Array[] = [];
    for (let at = 0; at + 12 <= input.length; at += 12) slots.push(input.subarray(at, at + 12));
    for (let start = 0; start < slots.length;) {
      const p = parseTxPacket(slots, start, MAX_FRAME);
      if (p.kind !== 'packet') break;
      check(p.ids.length >= 1 && start + p.ids.length <= slots.length, 'a packet of no slots or past the batch');
      if (p.error === null) {
        check(p.size <= MAX_FRAME && p.segs.reduce((n, s) => n + s.len, 0) === p.size, 'segments do not add up to the packet');
        for (const s of p.segs) check(s.offset + s.len <= 4096, 'a segment crosses its page');
      }
      start += p.ids.length;
    }
  },
};

// ---- blkback requests -------------------------------------------------------------------------

const PAGES = 16;
class FakeMemory {
  readonly size = PAGES * 4096;
  private readonly bytes = new Uint8Array(this.size);
  constructor(fill: (b: Uint8Array) => void) { fill(this.bytes); }
  contains(offset: number, len: number): boolean { return Number.isSafeInteger(offset) && offset >= 0 && len >= 0 && offset + len <= this.size; }
  page(offset: number): Uint8Array {
    check(offset % 4096 === 0 && this.contains(offset, 4096), `page(${offset}) of a mapping outside memory`);
    return this.bytes.subarray(offset, offset + 4096);
  }
}

/** Grants 0..PAGES-1 map to those pages (the last, for indirect lists, holds fuzz bytes); others fail. */
class FakeGrants {
  acquire(ops: readonly { ref: number }[]): { status: number; offset: number }[] {
    return ops.map((o) => (o.ref < PAGES ? { status: 0, offset: o.ref * 4096 } : { status: -1, offset: 0 }));
  }
  releaseTransient(): void {}
}

const DISK_SECTORS = 2048;

/** resolveBatch over entries cut from the input (byte 0: ring ABI and limits). */
const blkbackRequests: CoverageTarget = {
  name: 'blkback-requests',
  files: ['dom0/backend-sdk/blkif'],
  maxLen: 112 * 8 + 1,
  seeds: () => [Buffer.concat([Buffer.from([0]),
    encodeRequest({ op: BLKIF_OP.READ, id: 1n, sector: 8, segments: [{ gref: 1, first: 0, last: 7 }] }, 'x86_64-abi'),
    encodeRequest({ op: BLKIF_OP.INDIRECT, id: 2n, indirectOp: BLKIF_OP.WRITE, nrSegments: 3, indirectGrefs: [15] }, 'x86_64-abi'),
    encodeRequest({ op: BLKIF_OP.DISCARD, id: 3n, sector: 0, nrSectors: 8 }, 'x86_64-abi')])],
  run(input) {
    const mode = input[0] ?? 0;
    const proto: RingProtocol = mode & 1 ? 'x86_32-abi' : 'x86_64-abi';
    const limits = { sectors: DISK_SECTORS, readonly: (mode & 2) !== 0, maxIndirectSegments: mode & 4 ? 0 : 64, discard: (mode & 8) === 0 };
    const size = blkifEntrySize(proto);
    const body = input.subarray(1);
    const batch: Uint8Array[] = [];
    for (let at = 0; at + size <= body.length; at += size) batch.push(body.slice(at, at + size));
    const mem = new FakeMemory((b) => b.set(body.subarray(0, 4096), 15 * 4096));
    const jobs = resolveBatch(batch, proto, limits, new FakeGrants() as unknown as GrantClient, mem as unknown as GuestMemory);
    check(jobs.length === batch.length, 'a job per entry');
    for (const j of jobs) {
      check(j.status === null || j.status === BLKIF_RSP.ERROR || j.status === BLKIF_RSP.EOPNOTSUPP, `status ${j.status}`);
      if (j.status === null) {
        for (const s of j.spans) check(mem.contains(s.offset, s.len) && s.len > 0 && s.len % SECTOR_SIZE === 0, 'a span outside memory');
        if (j.op === BLKIF_OP.READ || j.op === BLKIF_OP.WRITE) check(j.req.sector + j.sectors <= DISK_SECTORS, 'I/O past the end of the disk');
        if (limits.readonly) check(j.op === BLKIF_OP.READ || j.spans.length === 0, 'a write to a read-only disk');
      }
      check(jobResponse(j, proto).length > 0, 'no response');
    }
  },
};

export const TARGETS: readonly CoverageTarget[] = [xsWire, xenstored, privilegedFrames, saveFile, xlCfg, netbackTx, blkbackRequests];
