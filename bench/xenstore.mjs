// xenstore.mjs: xenstored throughput — READ/WRITE round trips over the Unix socket, the same
// operations through a mock guest ring in-process (no guest: the cost of the daemon and ring code),
// and from a real guest (bench/guests/xsbench) through its ring to dom0's xenstored, with the socket
// measured against that same daemon in the same run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFailure, guestsDir, median, pvkvmJs, requireFile, importBundled } from './lib.mjs';
import { startDaemons } from './guest-window.mjs';

const RUNS = Number(process.env.PVKVM_BENCH_RUNS ?? 3);
const SOCKET_OPS = Number(process.env.PVKVM_BENCH_XS_SOCKET_OPS ?? 20000);
const RING_OPS = Number(process.env.PVKVM_BENCH_XS_RING_OPS ?? 100000);
/** Round trips of each kind (READ and WRITE) the guest makes per run. */
const GUEST_OPS = Number(process.env.PVKVM_BENCH_XS_GUEST_OPS ?? 2000);

const XS_READ = 2;
const XS_WRITE = 11;
const XS_ERROR = 16;

/** The xenstored that dom0 runs, loaded into this process. */
async function loadXenstored() {
  return (await importBundled('dom0/xenstore/xenstored.ts', 'xenstored')).Xenstored;
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
        if (buf.readUInt32LE(0) === XS_ERROR) {
          sock.destroy();
          return reject(new Error(`error reply ${buf.subarray(16, 16 + len)}`));
        }
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


const XSBENCH_LINE = /^xsbench (.*)$/m;

/** Run the xsbench guest once through the daemons (`pvkvm create CFG -c`); returns its numbers. */
async function guestRun(daemons, guest, run) {
  const cfg = join(daemons.runDir, `xsbench-${run}.cfg`);
  writeFileSync(cfg, `name = "xsbench-${run}"\nkernel = "${guest}"\nmemory = 32\ncmdline = "ops=${GUEST_OPS}"\n`);
  const r = await daemons.cli(['create', cfg, '-c'], { timeoutMs: 300_000 });
  const line = XSBENCH_LINE.exec(r.stdout);
  if (r.code !== 0 || line === null || !/^Test result: SUCCESS$/m.test(r.stdout)) {
    throw new Error(describeFailure(`xsbench guest (run ${run + 1})`, r));
  }
  const f = Object.fromEntries([...line[1].matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  // Rates from the exact ns totals (the guest's own rates are rounded down to integers).
  const read = (f.ops * 1e9) / f.read_ns;
  const write = (f.ops * 1e9) / f.write_ns;
  if (!(read > 0 && write > 0)) throw new Error(`xsbench guest (run ${run + 1}): cannot parse '${line[0]}'`);
  return { read, write, mean: (read + write) / 2 };
}

export async function run(ctx) {
  const guest = requireFile(join(guestsDir, 'xsbench.elf'), 'run `node build.mjs` first');
  requireFile(pvkvmJs, 'run `node build.mjs` first');
  if (!(RUNS >= 1) || !(GUEST_OPS >= 1)) throw new Error('PVKVM_BENCH_RUNS and PVKVM_BENCH_XS_GUEST_OPS must be positive');
  const Xenstored = await loadXenstored();
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-bench-xs-'));
  const xs = new Xenstored();
  let daemons = null;
  try {
    const path = join(dir, 'socket');
    await xs.listen(path);
    daemons = await startDaemons('pvkvm-bench-xsd-');
    const dom0Socket = join(daemons.runDir, 'xenstored.sock');
    // Warm-up, untimed: the guest image, the daemons' code paths, the socket client.
    await guestRun(daemons, guest, 'warm');
    await socketRun(dom0Socket, Math.min(SOCKET_OPS, 2000));

    const socketRates = [];
    const ringRates = [];
    const dom0SocketRates = [];
    const guestRates = [];
    for (let r = 0; r < RUNS; r++) {
      socketRates.push(await socketRun(path, SOCKET_OPS));
      ringRates.push(ringRun(xs, 100 + r, RING_OPS));
      dom0SocketRates.push(await socketRun(dom0Socket, SOCKET_OPS));
      guestRates.push(await guestRun(daemons, guest, r));
      const g = guestRates[r];
      ctx.log(`run ${r + 1}/${RUNS}: socket ${Math.round(socketRates[r])} ops/s, ring ${Math.round(ringRates[r])} ops/s, ` +
        `dom0 socket ${Math.round(dom0SocketRates[r])} ops/s, guest read ${Math.round(g.read)} write ${Math.round(g.write)} ops/s`);
    }
    const socket = median(socketRates);
    const ring = median(ringRates);
    const dom0Socket_ = median(dom0SocketRates);
    const guestMean = median(guestRates.map((g) => g.mean));
    const guestRead = median(guestRates.map((g) => g.read));
    const guestWrite = median(guestRates.map((g) => g.write));
    const ratio = guestMean / socket;
    const dom0Ratio = guestMean / dom0Socket_;
    return {
      socket_ops_per_s: Math.round(socket),
      ring_ops_per_s: Math.round(ring),
      dom0_socket_ops_per_s: Math.round(dom0Socket_),
      guest_ops_per_s: Math.round(guestMean),
      guest_read_ops_per_s: Math.round(guestRead),
      guest_write_ops_per_s: Math.round(guestWrite),
      guest_us_per_op: Number((1e6 / guestMean).toFixed(1)),
      guest_to_socket_ratio: Number(ratio.toFixed(4)),
      guest_to_dom0_socket_ratio: Number(dom0Ratio.toFixed(4)),
      socket_ops: SOCKET_OPS,
      ring_ops: RING_OPS,
      guest_ops: GUEST_OPS,
      runs: {
        socket_ops_per_s: socketRates.map(Math.round),
        ring_ops_per_s: ringRates.map(Math.round),
        dom0_socket_ops_per_s: dom0SocketRates.map(Math.round),
        guest_ops_per_s: guestRates.map((g) => Math.round(g.mean)),
        guest_read_ops_per_s: guestRates.map((g) => Math.round(g.read)),
        guest_write_ops_per_s: guestRates.map((g) => Math.round(g.write)),
      },
      summary: `guest ÷ socket ${ratio.toFixed(3)} (guest ${Math.round(guestMean)} ops/s: read ${Math.round(guestRead)}, ` +
        `write ${Math.round(guestWrite)}; socket ${Math.round(socket)} ops/s in-process daemon, ${Math.round(dom0Socket_)} ops/s ` +
        `dom0's xenstored, guest ÷ that ${dom0Ratio.toFixed(3)}); ring ${Math.round(ring)} ops/s (mock ring, in-process)`,
    };
  } finally {
    await xs.close();
    if (daemons !== null) await daemons.down();
    rmSync(dir, { recursive: true, force: true });
  }
}
