// bundle-worker.ts: bundle a worker-thread entry under test/helpers/ for a test (tap's TypeScript
// loader does not reach worker threads), into a directory below node_modules where the bundle's
// own import of koffi (left external: it is native) resolves.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bundle test/helpers/NAME.ts; returns its URL and a function that removes the bundle. */
export async function bundleWorker(name: string): Promise<{ url: URL; remove: () => void }> {
  const cache = fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url));
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, `pvkvm-${name}-`));
  const out = join(dir, `${name}.mjs`);
  await build({
    entryPoints: [fileURLToPath(new URL(`./${name}.ts`, import.meta.url))],
    bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'warning', external: ['koffi'],
  });
  return { url: new URL(`file://${out}`), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
