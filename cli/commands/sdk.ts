// sdk.ts: `pvkvm sdk cflags|ldflags|dir|build` — the installed guest SDK (dist/sdk: headers,
// libpvkvm.a, link.ld, flags.json, made by build.mjs) for building guests outside the repository.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse, helpRequested, type Command } from '../command.ts';
import { UsageError } from '../usage-error.ts';
import { PvkvmError } from '../../host/errors.ts';

/** Where the SDK is: beside the bundle (dist/sdk), or PVKVM_SDK_DIR. */
function sdkDir(): string {
  const dir = process.env.PVKVM_SDK_DIR ?? fileURLToPath(new URL('./sdk/', import.meta.url));
  if (!existsSync(join(dir, 'libpvkvm.a'))) throw new PvkvmError(`no guest SDK in ${dir} (build pvkvm with 'npm run build')`);
  return dir.replace(/\/$/, '');
}

function flags(dir: string): { cflags: string[]; ldflags: string[] } {
  const j = JSON.parse(readFileSync(join(dir, 'flags.json'), 'utf8')) as { cflags?: unknown; ldflags?: unknown };
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return { cflags: list(j.cflags), ldflags: list(j.ldflags) };
}

export function sdkCflags(dir: string): string[] {
  return [...flags(dir).cflags, '-I', join(dir, 'include')];
}

/** The archive whole: it holds the PVH entry and driver tables nothing names. */
export function sdkLdflags(dir: string): string[] {
  return [...flags(dir).ldflags, '-T', join(dir, 'link.ld'), join(dir, 'kernel', 'pvkvm-kernel.o'), '-Wl,--whole-archive', join(dir, 'libpvkvm.a'), '-Wl,--no-whole-archive', '-lgcc'];
}

const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);

export const sdk: Command = {
  name: 'sdk',
  synopsis: 'pvkvm sdk cflags|ldflags|dir|build  build guests outside the repository',
  help: `Usage: pvkvm sdk cflags | ldflags | dir | build OUT.elf SOURCE... [-- GCCFLAGS...]

The guest SDK installed with pvkvm (headers, the runtime library libpvkvm.a, the link script):

  pvkvm sdk cflags        compiler flags (freestanding, -I the SDK's include directory)
  pvkvm sdk ldflags       linker flags (link.ld, libpvkvm.a, libgcc); put them after your objects
  pvkvm sdk dir           the SDK's directory
  pvkvm sdk build OUT.elf SOURCE...
                          compile and link SOURCE files (.c, .S) into a PVH guest with gcc
                          ($CC); extra gcc flags after --

  gcc $(pvkvm sdk cflags) -c hello.c && gcc hello.o $(pvkvm sdk ldflags) -o hello.elf
  pvkvm run hello.elf

PVKVM_SDK_DIR overrides where the SDK is. See domU-sdk/README.md.`,
  async run(argv) {
    const dash = argv.indexOf('--');
    const extra = dash >= 0 ? argv.slice(dash + 1) : [];
    const p = parse('sdk', dash >= 0 ? argv.slice(0, dash) : argv, {});
    if (helpRequested(p, sdk)) return 0;
    const [what, ...rest] = p.positionals;
    switch (what) {
      case 'cflags':
      case 'ldflags':
      case 'dir': {
        if (rest.length > 0) throw new UsageError(`sdk ${what}: takes no arguments`);
        const dir = sdkDir();
        const out = what === 'dir' ? [dir] : what === 'cflags' ? sdkCflags(dir) : sdkLdflags(dir);
        process.stdout.write(`${out.map(quote).join(' ')}\n`);
        return 0;
      }
      case 'build': {
        const [out, ...sources] = rest;
        if (out === undefined || sources.length === 0) throw new UsageError('sdk build: expected OUT.elf and at least one SOURCE');
        const bad = sources.find((s) => !/\.(c|S)$/.test(s));
        if (bad !== undefined) throw new UsageError(`sdk build: '${bad.slice(0, 64)}' is not a .c or .S source`);
        const missing = sources.find((s) => !existsSync(s));
        if (missing !== undefined) throw new UsageError(`sdk build: ${missing.slice(0, 200)}: no such file`, 1);
        const dir = sdkDir();
        const cc = process.env.CC ?? 'gcc';
        const r = spawnSync(cc, [...sdkCflags(dir), ...extra, ...sources, ...sdkLdflags(dir), '-o', out], { stdio: 'inherit' });
        if (r.error !== undefined) throw new PvkvmError(`sdk build: cannot run ${cc}: ${r.error.message}`);
        if (r.status !== 0) throw new PvkvmError(`sdk build: ${cc} failed (exit status ${r.status ?? r.signal})`);
        process.stdout.write(`built ${out}\n`);
        return 0;
      }
      default:
        throw new UsageError(`sdk: expected cflags, ldflags, dir or build (try pvkvm sdk --help)`);
    }
  },
};
