// package-sdk.mjs: the guest SDK as installed with pvkvm (dist/sdk/) — the headers, the runtime
// built by build-guests.mjs as one archive (libpvkvm.a), the link script and the flags, so a
// guest can be built outside the repository (`pvkvm sdk cflags|ldflags|build`, domU-sdk/README.md).
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { GUEST_CFLAGS, LDFLAGS } from './build-guests.mjs';

const run = promisify(execFile);

/**
 * The objects under `dir` whose source still exists (`X.c.o` ← domU-sdk/src/…/X.c): a source
 * deleted since an earlier build leaves its object behind in the build directory, and archiving
 * it would link code nothing defines any more.
 */
function objectsUnder(dir, objRoot, srcRoot) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.o'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .filter((o) => existsSync(path.join(srcRoot, path.relative(objRoot, o).replace(/\.o$/, ''))))
    .sort();
}

/** Copy headers and link.ld, archive the runtime objects, write flags.json; outDir is replaced. */
export async function packageGuestSdk({ root, objDir, outDir }) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  cpSync(path.join(root, 'domU-sdk', 'include'), path.join(outDir, 'include'), { recursive: true });
  cpSync(path.join(root, 'domU-sdk', 'link.ld'), path.join(outDir, 'link.ld'));
  // link.ld places objects by path (*/sdk/kernel/* below 2 MiB, on supervisor pages), which
  // archive members do not have: the kernel is one relocatable object at sdk/kernel/, the rest
  // an archive linked whole (see pvkvm sdk ldflags: driver tables name what nothing calls).
  const kernelDir = path.join(objDir, 'kernel');
  const srcRoot = path.join(root, 'domU-sdk', 'src');
  mkdirSync(path.join(outDir, 'kernel'), { recursive: true });
  await run(process.env.LD || 'ld', ['-r', '-o', path.join(outDir, 'kernel', 'pvkvm-kernel.o'), ...objectsUnder(kernelDir, objDir, srcRoot)]);
  const rest = objectsUnder(objDir, objDir, srcRoot).filter((o) => !o.startsWith(`${kernelDir}${path.sep}`));
  await run(process.env.AR || 'ar', ['rcs', path.join(outDir, 'libpvkvm.a'), ...rest]);
  writeFileSync(path.join(outDir, 'flags.json'), `${JSON.stringify({ cflags: GUEST_CFLAGS, ldflags: LDFLAGS }, null, 2)}\n`);
}
