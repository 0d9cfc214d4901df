// privileged.test.ts: the dom0 ↔ hypervisor interface — frame codec, fd passing, version check,
// one dom0 only, and no access for other local users (socket mode and peer credentials).
import t from 'tap';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { decodeFrame, encodeFrame, INTERFACE_VERSION, type Frame } from '../abi/privileged.ts';
import { createServer, connect, type Socket } from 'node:net';
import { FrameConnection } from '../host/frame-connection.ts';
import { connectSeqpacket, listenSeqpacket, acceptNonblocking, sendWithFds, recvWithFds } from '../host/unix-fds.ts';
import { libc, EFD_CLOEXEC, EFD_NONBLOCK } from '../host/libc.ts';
import { PrivilegedService, RequestError } from '../hypervisor/daemon/privileged-service.ts';
import type { Hypervisor } from '../hypervisor/domain/hypervisor.ts';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons } from './helpers/daemons.ts';
import { PVKVM, cleanEnv } from './helpers/run-guest.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

t.test('frames round-trip through protobuf', async (t) => {
  const frames: Frame[] = [
    { kind: 'request', request: { interface_version: INTERFACE_VERSION, id: 7, op: 'bind_interdomain', bind_interdomain: { domid: 3, remote_port: 9 } } },
    { kind: 'response', response: { id: 7, errno: 0, error: '', fd_count: 2, body: 'channel', channel: { channel: 4, domid: 3, guest_port: 9 } } },
    { kind: 'event', event: { domid: 3, what: 'dead', dead: { kind: 'shutdown', reason: 1, detail: '', fault_vcpu: 0, fault_kind: '', fault_rip: '' } } },
  ];
  for (const f of frames) t.match(decodeFrame(encodeFrame(f)), f);
  t.throws(() => decodeFrame(new Uint8Array([0x0a, 0xff, 0xff, 0xff])), 'truncated frames are rejected');
});

t.test('file descriptors cross a SOCK_SEQPACKET socket by SCM_RIGHTS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-fds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const listenFd = listenSeqpacket(join(dir, 's'));
  const client = connectSeqpacket(join(dir, 's'));
  const server = acceptNonblocking(listenFd);
  t.ok(server >= 0, 'accepted');
  t.equal(recvWithFds(server), null, 'nothing queued yet');
  const efd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  sendWithFds(client, new Uint8Array([1, 2, 3]), [efd]);
  const rec = recvWithFds(server)!;
  t.same([...rec.data], [1, 2, 3]);
  t.equal(rec.fds.length, 1);
  t.not(rec.fds[0], efd, 'a new descriptor');
  libc.write(rec.fds[0]!, new BigUint64Array([5n]), 8);
  const v = new BigUint64Array(1);
  libc.read(efd, v, 8);
  t.equal(v[0], 5n, 'the same eventfd behind both descriptors');
  for (const fd of [listenFd, client, server, efd, rec.fds[0]!]) libc.close(fd);
});

t.test('frames are reassembled from any chunking; oversized ones close the connection', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-frames-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 's');
  const accepted = new Promise<Socket>((resolve) => {
    const server = createServer((s) => { server.close(); resolve(s); });
    server.listen(path);
  });
  const client = connect(path);
  const conn = new FrameConnection(await accepted);
  const got: Frame[] = [];
  conn.on('frame', (f) => got.push(f));
  const big: Frame = { kind: 'request', request: { interface_version: 1, id: 1, op: 'create', create: {
    name: 'k', kernel: new Uint8Array(300_000).fill(7), kernel_name: 'k', memory_mib: 2, vcpus: 1, cmdline: '', modules: [],
    start_paused: false, dom0_rings: false,
  } } };
  const small: Frame = { kind: 'event', event: { domid: 3, what: 'state', state: 'paused' } };
  const wire = (f: Frame): Buffer => {
    const body = encodeFrame(f);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length, 0);
    return Buffer.concat([head, body]);
  };
  const stream = Buffer.concat([wire(big), wire(small), wire(small)]);
  // Odd-sized pieces, so the length prefix itself is split too.
  for (let o = 0; o < stream.length; o += 4093) {
    client.write(stream.subarray(o, o + 4093));
    await new Promise((r) => setImmediate(r));
  }
  // And one frame a byte at a time: every split point of prefix and body.
  for (const b of wire(small)) {
    client.write(Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 100));
  t.equal(got.length, 4, 'four frames');
  t.equal(got[0]!.kind === 'request' && got[0]!.request.op === 'create' ? got[0]!.request.create.kernel.length : -1, 300_000);
  t.match(got[2], small);
  t.match(got[3], small);
  const closed = new Promise<string>((resolve) => conn.once('close', resolve));
  const huge = Buffer.alloc(4);
  huge.writeUInt32LE(0xffffffff, 0);
  client.write(huge);
  t.match(await closed, /too large/);
  client.destroy();
});

t.test('every request carries a checked interface version', async (t) => {
  const svc = new PrivilegedService({} as Hypervisor);
  let caught: unknown = null;
  try {
    svc.handle({ interface_version: INTERFACE_VERSION + 1, id: 1, op: 'list', list: { domid: 0 } });
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof RequestError, 'refused');
  t.equal((caught as RequestError).errno, 71, 'EPROTO');
  t.match((caught as RequestError).message, /interface version/);
});

function runAs(user: string | null, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  const cmd = user === null ? process.execPath : 'runuser';
  const argv = user === null ? args : ['-u', user, '--', process.execPath, ...args];
  return new Promise((resolve) => {
    const c = spawn(cmd, argv, { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const kill = setTimeout(() => c.kill('SIGKILL'), 20_000);
    c.on('close', (code) => { clearTimeout(kill); resolve({ code, out }); });
  });
}

t.test('only one dom0, and only the same user', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const second = await runAs(null, [PVKVM, 'daemon', 'dom0', '--run-dir', d.runDir]);
  t.not(second.code, 0, 'a second dom0 is refused');
  t.match(second.out, /another dom0 is connected/);

  const sock = join(d.runDir, 'hypervisor.sock');
  const probe = `const s=require('net').connect(${JSON.stringify(sock)});` +
    "s.on('connect',()=>console.log('connected'));s.on('data',()=>console.log('data'));" +
    "s.on('error',e=>console.log('error',e.code));s.on('close',()=>console.log('closed'));";
  if (process.getuid?.() === 0) {
    const denied = await runAs('nobody', ['-e', probe]);
    t.match(denied.out, /error EACCES/, 'the run directory and socket are private');
    // Open the permissions: the peer-credential check still turns the other user away.
    chmodSync(d.runDir, 0o755);
    chmodSync(sock, 0o666);
    const refused = await runAs('nobody', ['-e', probe]);
    t.match(refused.out, /connected/);
    t.match(refused.out, /closed/);
    t.notMatch(refused.out, /data/, 'no reply at all');
    t.match(readFileSync(join(d.runDir, 'hypervisor.log'), 'utf8'), /refused a privileged connection from uid 65534/);
  } else {
    t.comment('not root: cannot test another uid');
  }
  // dom0 is still connected and serving.
  t.equal((await d.cli(['list'])).code, 0);
});
