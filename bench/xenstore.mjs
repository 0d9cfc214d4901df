// xenstore.mjs: xenstored throughput — READ/WRITE round trips over the Unix socket, and the same
// operations through a mock guest ring in-process (no guest: the cost of the daemon and ring code).
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDir, median, root } from './lib.mjs';

const RUNS = Number(process.env.PVKVM_BENCH_RUNS ?? 3);
const SOCKET_OPS = Number(process.env.PVKVM_BENCH_XS_SOCKET_OPS ?? 20000);
const RING_OPS = Number(process.env.PVKVM_BENCH_XS_RING_OPS ?? 100000);

const XS_READ = 2;
const XS_WRITE = 11;
const XS_ERROR = 16;

/** Bundle the TypeScript daemon so this plain .mjs can load it. */
async function loadXenstored() {
  const out = join(benchDir, 'build', 'xenstored.mjs');
  await build({
    entryPoints: [join(root, 'dom0/xenstore/xenstored.ts')], outfile: out, bundle: true, platform: 'node',
    format: 'esm', target: 'node20', logLevel: 'warning',
  });
  return (await import(pathToFileURL(out).href)).Xenstored;
}

function frame(type, reqId, payload) {
  const out = Buffer.alloc(16 + payload.length);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(reqId, 4);
  out.writeUInt32LE(payload.length, 12);
  payload.copy(out, 16);
  return out;
}

/** The i-th operation: alternately write and read back one of 64 keys under `base`. */
function request(i, base = '/bench') {
  const key = `${base}/key${(i >> 1) & 63}`;
  return i % 2 === 0
    ? frame(XS_WRITE, i, Buffer.from(`${key}\0value-${i}`))
    : frame(XS_READ, i, Buffer.from(`${key}\0`));
}

/** Sequential round trips (one request outstanding) over the socket; returns ops/s. */
function socketRun(path, ops) {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = Buffer.alloc(0);
    let i = 0;
    let start = 0;
    sock.on('error', reject);
    sock.on('connect', () => {
      start = performance.now();
      sock.write(request(0));
    });
    sock.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 16 && buf.length >= 16 + buf.readUInt32LE(12)) {
        const len = buf.readUInt32LE(12);
        if (buf.readUInt32LE(0) === XS_ERROR) return reject(new Error(`error reply ${buf.subarray(16, 16 + len)}`));
        buf = buf.subarray(16 + len);
        if (++i === ops) {
          const secs = (performance.now() - start) / 1000;
          sock.destroy();
          return resolve(ops / secs);
        }
        sock.write(request(i));
      }
    });
  });
}

/**
 * A mock guest ring driven synchronously: write a request into req, kick (the daemon handles it
 * at once), take the reply from rsp. Returns ops/s.
 */
function ringRun(xs, domid, ops) {
  const page = new Uint8Array(4096);
  const idx = new Int32Array(page.buffer, 2048, 8);
  xs.local.mkdir(`/local/domain/${domid}`);
  xs.local.setPerms(`/local/domain/${domid}`, [{ id: domid, perm: 'n' }]);
  xs.introduceDomain(domid, { page, notify() {} });
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    const req = request(i, 'bench'); // relative: under the guest's home
    let prod = idx[1] >>> 0;
    for (let k = 0; k < req.length; k++) page[(prod + k) & 1023] = req[k];
    Atomics.store(idx, 1, (prod + req.length) | 0);
    xs.kick(domid);
    const cons = idx[2] >>> 0;
    prod = Atomics.load(idx, 3) >>> 0;
    if (prod === cons) throw new Error('no reply on the ring');
    if (page[1024 + (cons & 1023)] === XS_ERROR) throw new Error('error reply on the ring');
    Atomics.store(idx, 2, prod | 0);
  }
  const secs = (performance.now() - start) / 1000;
  xs.releaseDomain(domid);
  return ops / secs;
}

export async function run(ctx) {
  const Xenstored = await loadXenstored();
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-bench-xs-'));
  const xs = new Xenstored();
  try {
    const path = join(dir, 'socket');
    await xs.listen(path);
    const socketRates = [];
    const ringRates = [];
    for (let r = 0; r < RUNS; r++) {
      socketRates.push(await socketRun(path, SOCKET_OPS));
      ringRates.push(ringRun(xs, 100 + r, RING_OPS));
      ctx.log(`run ${r + 1}/${RUNS}: socket ${Math.round(socketRates[r])} ops/s, ring ${Math.round(ringRates[r])} ops/s`);
    }
    const socket = median(socketRates);
    const ring = median(ringRates);
    return {
      socket_ops_per_s: Math.round(socket),
      ring_ops_per_s: Math.round(ring),
      socket_ops: SOCKET_OPS,
      ring_ops: RING_OPS,
      runs: { socket_ops_per_s: socketRates.map(Math.round), ring_ops_per_s: ringRates.map(Math.round) },
      summary: `socket ${Math.round(socket)} ops/s (sequential READ/WRITE round trips), ring ${Math.round(ring)} ops/s (mock ring, in-process)`,
    };
  } finally {
    await xs.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
