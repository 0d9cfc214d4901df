// lib.mjs: helpers shared by the benchmarks — machine description, medians, timed child processes.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const root = dirname(benchDir);

/** Wall clock in epoch milliseconds with sub-millisecond resolution (comparable across processes). */
export const epochMs = () => performance.timeOrigin + performance.now();

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Round for JSON and summaries: 3 significant decimals are plenty for timings. */
export const round = (x, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

export function machineInfo() {
  let cpu = 'unknown';
  let cpuMhz = null;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpu;
    const mhz = /^cpu MHz\s*:\s*([\d.]+)$/m.exec(info)?.[1];
    if (mhz !== undefined) cpuMhz = Number(mhz);
  } catch { /* not Linux: leave unknown */ }
  let kvmModules = [];
  try {
    kvmModules = readdirSync('/sys/module').filter((m) => /^kvm(_|$)/.test(m)).sort();
  } catch { /* no sysfs */ }
  return { cpu, cpu_mhz: cpuMhz, nproc: availableParallelism(), kernel: release(), node: process.version, kvm_modules: kvmModules };
}

/** Fail with a clear message when a build product is missing. */
export function requireFile(path, hint) {
  if (!existsSync(path)) throw new Error(`${path} not found (${hint})`);
  return path;
}

/**
 * Run a command to completion, capturing output. Resolves with exit status, output and the epoch-ms
 * times just before spawn and at exit. Kills the child (by its own pid) after `timeoutMs`.
 */
export function runProcess(cmd, args, { env, timeoutMs = 120_000, cwd = root } = {}) {
  return new Promise((resolve, reject) => {
    const spawnAt = epochMs();
    const child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    let exitAt = NaN;
    child.on('exit', () => { exitAt = epochMs(); });
    // 'close' follows 'exit' once the pipes have drained, so the output is complete.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code, signal, timedOut, spawnAt, exitAt,
        stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Describe a failed child for an error message: status plus the last lines of its output. */
export function describeFailure(what, r) {
  const tail = (s) => s.trim().split('\n').slice(-5).join(' | ');
  const status = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
  return `${what}: ${status}; stdout: ${tail(r.stdout) || '(empty)'}; stderr: ${tail(r.stderr) || '(empty)'}`;
}

export const pvkvmJs = join(root, 'dist', 'pvkvm.js');
export const guestsDir = join(root, 'dist', 'guests');

/**
 * Bundle a TypeScript module of pvkvm (path relative to the repository) to bench/build/NAME.mjs
 * and import it, so these plain .mjs benchmarks can use pvkvm's own code.
 */
export async function importBundled(entry, name, external = []) {
  const { build } = await import('esbuild');
  const { pathToFileURL } = await import('node:url');
  const out = join(benchDir, 'build', `${name}.mjs`);
  await build({
    entryPoints: [join(root, entry)], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    external, logLevel: 'warning',
  });
  return import(pathToFileURL(out).href);
}
