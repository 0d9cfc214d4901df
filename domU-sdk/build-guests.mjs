// build-guests.mjs: compiles the domU-sdk runtime and links every guest into a PVH ELF.
//
//   import { buildGuests } from './domU-sdk/build-guests.mjs';
//   const guests = await buildGuests({ root, outDir });   // [{ name, elf, dir }]
//
// Guests are the directories domU-sdk/guests/NAME/ (samples), test/guests/NAME/ (run by tests) and
// bench/guests/NAME/ (run only by benchmarks); each holds one or more .c (or .S) files and becomes
// OUTDIR/NAME.elf. Objects live in OUTDIR/.obj/ and are rebuilt only when a source, a header it
// includes (gcc -MMD), or the flags change. Any gcc failure prints the command and gcc's output
// and throws.
//
// A guest directory may hold guest.json, how to run the guest: { "timeout": seconds, "args": [...]
// extra `pvkvm run` arguments, "note": "why" } (see domU-sdk/README.md), and how to build it:
// "cflags": [...] added after GUEST_CFLAGS for the guest's own sources only (e.g. ["-msse2"] for a
// guest built as ordinary x86-64 code; the runtime keeps its flags). It is checked here and
// written, with the defaults filled in, to OUTDIR/NAME.json beside the ELF for runners to read.
//
// Run directly: `node domU-sdk/build-guests.mjs [OUTDIR]` (default dist/guests).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CC = process.env.CC || 'gcc';

export const GUEST_CFLAGS = [
  '-std=gnu11', '-O2', '-g',
  '-ffreestanding', '-nostdlib', '-static', '-fno-pie',
  '-mno-red-zone', '-mno-sse', '-mno-mmx', '-mno-sse2',
  '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-fcf-protection=none',
  '-Wall', '-Wextra', '-Wno-unused-parameter',
];

export const LDFLAGS = [
  '-nostdlib', '-static', '-no-pie',
  '-Wl,--build-id=none', '-Wl,-z,max-page-size=0x1000', '-Wl,-z,noexecstack',
];

/** A gcc failure, with the command line and gcc's output. */
export class GuestBuildError extends Error {
  constructor(what, args, output) {
    super(`${what} failed:\n  ${CC} ${args.join(' ')}\n${output}`);
    this.name = 'GuestBuildError';
  }
}

function runGcc(what, args) {
  return new Promise((resolve, reject) => {
    execFile(CC, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trimEnd();
      if (err) {
        const e = new GuestBuildError(what, args, output || String(err.message));
        process.stderr.write(`domU-sdk: ${e.message}\n`);
        reject(e);
        return;
      }
      if (output) process.stderr.write(`domU-sdk: ${what}:\n${output}\n`);
      resolve();
    });
  });
}

/** Run async jobs with at most `limit` in flight; rejects with the first failure after all settle. */
async function pool(jobs, limit) {
  let next = 0;
  let failure = null;
  async function worker() {
    while (next < jobs.length) {
      const job = jobs[next++];
      try {
        await job();
      } catch (e) {
        failure ??= e;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  if (failure) throw failure;
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

const isSource = (f) => f.endsWith('.c') || f.endsWith('.S');

function sourcesIn(dir) {
  return readdirSync(dir)
    .filter(isSource)
    .sort()
    .map((f) => path.join(dir, f));
}

/** Sources in dir and every folder below it (the runtime: src/arch, src/xen, ...), sorted. */
function sourcesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && isSource(e.name))
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort();
}

/** Files a gcc -MMD dependency file lists (the source and every header it included). */
function depsOf(depFile) {
  if (!existsSync(depFile)) return null;
  const text = readFileSync(depFile, 'utf8').replace(/\\\n/g, ' ');
  const colon = text.indexOf(': ');
  if (colon < 0) return null;
  return text.slice(colon + 2).split(/\s+/).filter(Boolean);
}

/** True when obj must be rebuilt: missing, flags changed, or older than anything it depends on. */
function stale(obj, flagsKey) {
  const t = mtime(obj);
  if (t < 0) return true;
  const stamp = `${obj}.flags`;
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== flagsKey) return true;
  const deps = depsOf(`${obj}.d`);
  if (!deps) return true;
  return deps.some((d) => mtime(d) < 0 || mtime(d) > t);
}

function compileJob(src, obj, flags) {
  const flagsKey = [CC, ...flags].join(' ');
  if (!stale(obj, flagsKey)) return null;
  return async () => {
    mkdirSync(path.dirname(obj), { recursive: true });
    await runGcc(`compiling ${src}`, [...flags, '-MMD', '-MF', `${obj}.d`, '-c', src, '-o', obj]);
    writeFileSync(`${obj}.flags`, flagsKey);
  };
}

/** The time limit (seconds) of a guest whose guest.json does not set one. */
export const DEFAULT_GUEST_TIMEOUT_S = 120;

/**
 * A guest's run metadata: its directory's guest.json with the defaults filled in,
 * { timeout, args }. Throws on a malformed file (unknown key, wrong type).
 */
export function readGuestMeta(dir) {
  const file = path.join(dir, 'guest.json');
  const meta = { timeout: DEFAULT_GUEST_TIMEOUT_S, args: [], cflags: [] };
  if (!existsSync(file)) return meta;
  const bad = (why) => new Error(`domU-sdk: ${file}: ${why}`);
  let json;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw bad(e.message);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad('not a JSON object');
  for (const key of Object.keys(json)) {
    if (!['timeout', 'args', 'note', 'cflags'].includes(key)) throw bad(`unknown key "${key}" (timeout, args, note, cflags)`);
  }
  if (json.timeout !== undefined) {
    if (!Number.isInteger(json.timeout) || json.timeout < 1) throw bad('"timeout" must be a whole number of seconds >= 1');
    meta.timeout = json.timeout;
  }
  if (json.args !== undefined) {
    if (!Array.isArray(json.args) || !json.args.every((a) => typeof a === 'string')) {
      throw bad('"args" must be an array of strings');
    }
    meta.args = json.args;
  }
  if (json.note !== undefined && typeof json.note !== 'string') throw bad('"note" must be a string');
  if (json.cflags !== undefined) {
    if (!Array.isArray(json.cflags) || !json.cflags.every((a) => typeof a === 'string' && a.startsWith('-'))) {
      throw bad('"cflags" must be an array of compiler options');
    }
    meta.cflags = json.cflags;
  }
  return meta;
}

/** Where guests live, under the repository root. */
export const GUEST_PARENTS = ['domU-sdk/guests', 'test/guests', 'bench/guests'];

/** Every guest directory: PARENT/NAME for each of GUEST_PARENTS (names must be unique). */
export function listGuestDirs(root) {
  const found = new Map();
  for (const parent of GUEST_PARENTS.map((p) => path.join(root, p))) {
    if (!existsSync(parent)) continue;
    for (const ent of readdirSync(parent, { withFileTypes: true })) {
      if (!ent.isDirectory()) continue;
      const dir = path.join(parent, ent.name);
      if (sourcesIn(dir).length === 0) continue;
      if (found.has(ent.name)) {
        throw new Error(`domU-sdk: two guests are named ${ent.name}: ${found.get(ent.name)} and ${dir}`);
      }
      found.set(ent.name, dir);
    }
  }
  return [...found].sort(([a], [b]) => a.localeCompare(b)).map(([name, dir]) => ({ name, dir }));
}

/**
 * Build the SDK runtime and every guest. Returns [{ name, elf, dir }].
 * @param {{ root: string, outDir: string }} opts  root = repository root; outDir gets NAME.elf
 */
export async function buildGuests({ root, outDir }) {
  const sdk = path.join(root, 'domU-sdk');
  const objDir = path.join(outDir, '.obj');
  const linkScript = path.join(sdk, 'link.ld');
  const baseFlags = [...GUEST_CFLAGS, '-I', path.join(sdk, 'include')];
  const jobs = Math.max(1, cpus().length);
  mkdirSync(outDir, { recursive: true });

  // 1. The runtime (every source under src/, in its folders), compiled once for every guest.
  const sdkObjs = [];
  const compiles = [];
  const srcRoot = path.join(sdk, 'src');
  for (const src of sourcesUnder(srcRoot)) {
    const obj = path.join(objDir, 'sdk', `${path.relative(srcRoot, src)}.o`);
    sdkObjs.push(obj);
    const job = compileJob(src, obj, baseFlags);
    if (job) compiles.push(job);
  }
  // 2. Each guest's own sources (its directory is on the include path).
  const guests = listGuestDirs(root).map(({ name, dir }) => {
    const meta = readGuestMeta(dir);
    const flags = [...baseFlags, ...meta.cflags, '-I', dir];
    const objs = sourcesIn(dir).map((src) => {
      const obj = path.join(objDir, name, `${path.basename(src)}.o`);
      const job = compileJob(src, obj, flags);
      if (job) compiles.push(job);
      return obj;
    });
    return { name, dir, objs, meta, elf: path.join(outDir, `${name}.elf`) };
  });
  await pool(compiles, jobs);

  // 2b. Each guest's run metadata beside its ELF (rewritten only when it changed).
  for (const g of guests) {
    const file = path.join(outDir, `${g.name}.json`);
    const text = `${JSON.stringify(g.meta)}\n`;
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  }

  // 3. Link: runtime objects first (pvh_entry.S's .text.boot goes first anyway via link.ld), then
  // libgcc.
  const links = [];
  for (const g of guests) {
    const inputs = [...sdkObjs, ...g.objs, linkScript, fileURLToPath(import.meta.url)];
    const t = mtime(g.elf);
    if (t >= 0 && inputs.every((f) => mtime(f) <= t)) continue;
    links.push(() =>
      runGcc(`linking ${g.name}`, [
        ...LDFLAGS, '-T', linkScript, '-o', g.elf, ...sdkObjs, ...g.objs, '-lgcc',
      ]),
    );
  }
  await pool(links, jobs);
  return guests.map(({ name, elf, dir }) => ({ name, elf, dir }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const outDir = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'guests'));
  buildGuests({ root, outDir }).then(
    (guests) => console.log(`domU-sdk: ${guests.length} guests in ${path.relative(process.cwd(), outDir) || '.'}`),
    (e) => {
      if (!(e instanceof GuestBuildError)) console.error(e.message); // gcc failures are printed already
      process.exit(1);
    },
  );
}
