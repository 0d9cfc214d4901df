// protocol-fuzz.test.ts: seeded random and mutated input on every daemon socket — the privileged
// interface (a fake dom0's frames: truncated, oversized, wrong version, unknown ops, garbage), the
// toolstack's control socket (random JSON lines) and xenstored's socket (wire messages). After each
// round both daemons must be alive and still serve their real clients.
import t, { type Test } from 'tap';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, type TestDaemons, alive } from './helpers/daemons.ts';
import { XsSocketClient } from './helpers/xs-client.ts';
import { Rng, iterations, fuzzSeed, report } from './helpers/fuzz.ts';
import { encodeFrame, INTERFACE_VERSION, type Frame } from '../abi/privileged.ts';


/** Connect, write every buffer (pausing now and then), then close; errors are the peer's right. */
async function spray(path: string, bufs: Buffer[]): Promise<void> {
  const s: Socket = connect(path);
  s.on('error', () => {});
  s.on('data', () => {});
  await new Promise<void>((res) => { s.once('connect', res); s.once('error', () => res()); });
  for (const b of bufs) {
    if (s.destroyed) break;
    await new Promise<void>((res) => s.write(b, () => res()));
  }
  await new Promise((r) => setTimeout(r, 20));
  s.destroy();
}

async function stillServing(t: Test, d: TestDaemons, what: string): Promise<void> {
  t.ok(alive(d.pid('hypervisor')) && alive(d.pid('dom0')), `${what}: both daemons alive`);
  const l = await d.cli(['list', '--json']);
  t.equal(l.code, 0, `${what}: the toolstack still answers\n${l.stderr}`);
  const xs = await XsSocketClient.connect(join(d.runDir, 'xenstored.sock'));
  try {
    await xs.write('/fuzz/check', what);
    t.equal(await xs.read('/fuzz/check'), what, `${what}: xenstored still serves`);
  } finally { xs.close(); }
}

const OPS = ['hello', 'list', 'create', 'destroy', 'pause', 'unpause', 'bind_interdomain', 'map_grant', 'nope', ''];

function privilegedFrame(r: Rng): Buffer {
  const valid: Frame = { kind: 'request', request: {
    interface_version: r.below(4) === 0 ? r.int() : INTERFACE_VERSION, id: r.int(), op: r.pick(OPS),
    [r.pick(OPS)]: { domid: r.int(), remote_port: r.int() },
  } as unknown as Frame extends { kind: 'request'; request: infer R } ? R : never };
  let body: Buffer;
  try { body = Buffer.from(encodeFrame(valid)); } catch { body = r.bytes(r.below(64)); }
  if (r.below(2)) body = r.mutate(body);
  if (r.below(4) === 0) body = r.bytes(r.below(256));
  const head = Buffer.alloc(4);
  const lie = r.below(8);
  head.writeUInt32LE(lie === 0 ? r.u32() : lie === 1 ? (1 << 30) + 1 : lie === 2 ? body.length + r.below(64) : body.length, 0);
  return Buffer.concat([head, body]);
}

const CTL_OPS = ['ping', 'list', 'info', 'block-list', 'network-list', 'vcpu-list', 'dmesg', 'wait', 'pause', 'unpause', 'mem-set', 'mem-max', 'vcpu-pin', 'vcpu-set', 'shutdown', 'destroy', 'network-attach', 'network-detach', 'create', 'console', 'bogus'];

function controlLine(r: Rng): Buffer {
  const val = (): unknown => r.pick<() => unknown>([() => r.int(), () => String(r.int()), () => null, () => [r.int()], () => ({ a: r.int() }), () => 'x'.repeat(r.below(300)), () => -r.int(), () => 'Domain-0', () => 0])();
  const obj: Record<string, unknown> = { op: r.pick(CTL_OPS) };
  for (const k of ['domain', 'domid', 'mib', 'vcpu', 'vcpus', 'cpus', 'spec', 'config', 'timeout', 'reboot', 'mode', 'id']) if (r.below(3) === 0) obj[k] = val();
  let line: Buffer = Buffer.from(JSON.stringify(obj));
  if (r.below(4) === 0) line = r.mutate(line);
  if (r.below(16) === 0) line = Buffer.alloc(70_000 + r.below(70_000), 0x61); /* longer than a line may be */
  return Buffer.concat([line, Buffer.from(r.below(8) ? '\n' : '')]);
}

const PATHS = ['/', '/local', '/local/domain/0', '/local/domain/1/x', 'relative', '@introduceDomain', '@releaseDomain', '/a/'.repeat(40), '', '/fuzz/x'];

function xsMessage(r: Rng): Buffer {
  const type = r.below(8) === 0 ? r.u32() : r.below(32);
  const parts = Array.from({ length: r.below(4) }, () => (r.below(6) === 0 ? r.bytes(r.below(32)).toString('latin1') : r.pick(PATHS)));
  let payload: Buffer = Buffer.from(parts.join('\0') + (r.below(2) ? '\0' : ''), 'latin1');
  if (r.below(8) === 0) payload = r.bytes(r.below(4200));
  const head = Buffer.alloc(16);
  head.writeUInt32LE(type >>> 0, 0);
  head.writeUInt32LE(r.u32(), 4);
  head.writeUInt32LE(r.below(4) === 0 ? r.u32() : r.below(3), 8);
  const lie = r.below(10);
  head.writeUInt32LE(lie === 0 ? r.u32() : lie === 1 ? 4097 : payload.length, 12);
  return Buffer.concat([head, payload]);
}

t.test('protocol fuzz: privileged frames, control lines and xenstore messages from sockets', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const seed = fuzzSeed(16);
  const rounds = iterations(8);
  const targets: Array<[string, string, (r: Rng) => Buffer]> = [
    ['privileged', 'hypervisor.sock', privilegedFrame],
    ['control', 'dom0.sock', controlLine],
    ['xenstore-socket', 'xenstored.sock', xsMessage],
  ];
  for (const [name, sock, gen] of targets) {
    const r = new Rng(seed ^ name.length * 0x1000193);
    let frames = 0;
    for (let round = 0; round < rounds; round++) {
      const bufs = Array.from({ length: 1 + r.below(24) }, () => gen(r));
      frames += bufs.length;
      await spray(join(d.runDir, sock), bufs);
    }
    t.comment(`fuzz ${name}: ${frames} frames in ${rounds} connections, seed ${seed}`);
    await stillServing(t, d, name);
    report({ target: name, kind: 'frames', count: frames, seed, crashes: alive(d.pid('hypervisor')) && alive(d.pid('dom0')) ? 0 : 1, hangs: 0 });
  }
});
