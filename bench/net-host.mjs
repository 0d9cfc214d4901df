// net-host.mjs: the host side of `bench net` — network namespaces, veth and bridges made and
// removed for a run, the udpblast reference program (bench/c/udpblast.c), ping RTT percentiles,
// and the veth reference: the same UDP workload between two host namespaces.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, median, round, runProcess } from './lib.mjs';

/** Run `ip ARGS...`, throwing one line on failure. */
export function ip(...args) {
  try {
    return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (err) {
    throw new Error(`ip ${args.join(' ')}: ${String(err.stderr ?? err.message).trim().split('\n')[0]}`);
  }
}

/** Remove a namespace or link if it exists (cleanup never throws). */
export function removeQuietly(kind, name) {
  try {
    if (kind === 'netns') execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    else execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' });
  } catch { /* already gone */ }
}

/** Compile udpblast into bench/build/ (gitignored); returns the binary's path. */
export function buildUdpblast() {
  const out = join(benchDir, 'build');
  mkdirSync(out, { recursive: true });
  const bin = join(out, 'udpblast');
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-o', bin, join(benchDir, 'c', 'udpblast.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const detail = err.code === 'ENOENT' ? 'gcc not found' : String(err.stderr ?? err.message).trim().split('\n')[0];
    throw new Error(`cannot build bench/c/udpblast.c: ${detail}`);
  }
  return bin;
}

/** The key=value pairs of the last `net:` line in some output (numbers as numbers). */
export function netFields(text, key = null) {
  const lines = [...text.matchAll(/^net: (.*)$/gm)].map((m) => m[1]).filter((l) => key === null || l.includes(`${key}=`));
  if (lines.length === 0) return null;
  const kv = {};
  for (const m of lines[lines.length - 1].matchAll(/(\w+)=(\S+)/g)) kv[m[1]] = Number.isNaN(Number(m[2])) ? m[2] : Number(m[2]);
  return kv;
}

/** RTT percentiles (µs) from ping's per-reply `time=X ms` lines. */
export function pingPercentiles(text) {
  const rtts = [...text.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
  if (rtts.length === 0) return null;
  const pick = (q) => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))];
  return { replies: rtts.length, p50_us: round(pick(0.5), 1), p99_us: round(pick(0.99), 1) };
}

/**
 * Start udpblast's receiver (in a namespace, or on the host with ns null). Resolves once it has
 * bound its port, to `{ done }`: a promise of its whole output (wrapped, so awaiting the start
 * does not wait for the end).
 */
export function startReceiver(bin, ns, port, count, timeoutMs) {
  const args = [bin, 'recv', String(port), String(count), String(timeoutMs)];
  const child = ns === null ? spawn(args[0], args.slice(1)) : spawn('ip', ['netns', 'exec', ns, ...args]);
  let out = '';
  let err = '';
  return new Promise((ready, fail) => {
    const done = new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout: out, stderr: err })));
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('net: listening')) ready({ done });
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', fail);
    void done.then((r) => fail(new Error(`udpblast recv ended before listening: ${r.stderr.trim()}`)));
  });
}

/**
 * The veth reference: two namespaces joined by a veth pair; the same bulk (1472-byte), small
 * (64-byte) UDP runs and ping as the guests do. Medians over `runs`.
 */
export async function vethReference({ bulkCount, smallCount, pings, runs = 3, log }) {
  const bin = buildUdpblast();
  const [a, b] = ['pvkvm-bench-a', 'pvkvm-bench-b'];
  removeQuietly('netns', a);
  removeQuietly('netns', b);
  try {
    ip('netns', 'add', a);
    ip('netns', 'add', b);
    ip('link', 'add', 'pvkbench-a', 'type', 'veth', 'peer', 'name', 'pvkbench-b');
    ip('link', 'set', 'pvkbench-a', 'netns', a);
    ip('link', 'set', 'pvkbench-b', 'netns', b);
    ip('-n', a, 'addr', 'add', '10.98.0.1/24', 'dev', 'pvkbench-a');
    ip('-n', b, 'addr', 'add', '10.98.0.2/24', 'dev', 'pvkbench-b');
    for (const [ns, dev] of [[a, 'pvkbench-a'], [b, 'pvkbench-b']]) {
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    const udp = async (size, count) => {
      const rx = await startReceiver(bin, b, 5001, count, 1000);
      const tx = await runProcess('ip', ['netns', 'exec', a, bin, 'send', '10.98.0.2', '5001', String(size), String(count)], { timeoutMs: 300_000 });
      const r = await rx.done;
      const got = netFields(r.stdout, 'received');  // the `net: udp-recv` line
      if (got === null || tx.code !== 0) throw new Error(`veth udp ${size}: ${r.stderr.trim() || tx.stderr.trim()}`);
      return got;
    };
    const bulk = [];
    const small = [];
    for (let i = 0; i < runs; i++) {
      bulk.push(await udp(1472, bulkCount));
      small.push(await udp(64, smallCount));
    }
    const p = await runProcess('ip', ['netns', 'exec', a, 'ping', '-c', String(pings), '-i', '0.002', '10.98.0.2'], { timeoutMs: 120_000 });
    const rtt = pingPercentiles(p.stdout);
    const out = {
      bulk_mbps: round(median(bulk.map((r) => r.mbps)), 1),
      bulk_lost: bulk.reduce((s, r) => s + r.lost, 0),
      small_pps: Math.round(median(small.map((r) => r.pps))),
      small_lost: small.reduce((s, r) => s + r.lost, 0),
      rtt_p50_us: rtt?.p50_us ?? null,
      rtt_p99_us: rtt?.p99_us ?? null,
    };
    log?.(`veth reference: bulk ${out.bulk_mbps} Mb/s, 64-byte ${out.small_pps} pps, RTT p50 ${out.rtt_p50_us} µs`);
    return out;
  } finally {
    removeQuietly('netns', a);
    removeQuietly('netns', b);
  }
}
