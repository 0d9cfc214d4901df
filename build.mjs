// build.mjs: the one build driver — C headers from abi/, esbuild bundles into dist/, guest images.
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const quiet = process.argv.includes('--quiet');
const log = (msg) => { if (!quiet) process.stdout.write(`build: ${msg}\n`); };

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi'],
  sourcemap: 'linked',
  logLevel: 'warning',
  // Some bundled CommonJS dependencies call require(); give ESM bundles one.
  banner: { js: "import { createRequire as __pvkvmCreateRequire } from 'node:module'; const require = __pvkvmCreateRequire(import.meta.url);" },
};

async function generateHeaders() {
  // abi/ is TypeScript: bundle the generator to a temporary module and run it.
  const tmp = join(dist, '.gen', 'c-headers.mjs');
  await build({ ...common, entryPoints: [join(root, 'abi/gen/c-headers.ts')], outfile: tmp, sourcemap: false });
  const { writeCHeaders } = await import(pathToFileURL(tmp).href);
  writeCHeaders(join(root, 'domU-sdk/include/xen-abi'));
  rmSync(dirname(tmp), { recursive: true, force: true });
  log('C headers in domU-sdk/include/xen-abi');
}

async function bundle() {
  await build({
    ...common,
    entryPoints: {
      pvkvm: join(root, 'cli/main.ts'),
      'daemon-confine': join(root, 'cli/daemon-prelaunch.ts'),
      'vcpu-worker': join(root, 'hypervisor/vcpu/worker.ts'),
      'timer-thread': join(root, 'hypervisor/time/timer-thread.ts'),
      'nic-wake-thread': join(root, 'hypervisor/devices/nic-wake-thread.ts'),
      'dom0-event-thread': join(root, 'dom0/evtchn/event-thread.ts'),
      'blkback-worker': join(root, 'dom0/blkback/worker.ts'),
      'ramdisk-worker': join(root, 'dom0/ramdisk/worker.ts'),
      'netback-worker': join(root, 'dom0/netback/worker.ts'),
    },
    outdir: dist,
    banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
  });
  log('dist/pvkvm.js and its worker bundles');
}

/** The demo's disk (npm run demo): a small raw image whose first sector the hello guest prints. */
function demoDisk() {
  const text = 'Hello from the PV disk! This sector was written on the host by build.mjs and read by the\n' +
    'guest through blkfront, the blkif ring and dom0\'s blkback.\n';
  const image = Buffer.alloc(1024 * 1024);
  image.write(text, 0, 'latin1');
  writeFileSync(join(dist, 'demo-disk.img'), image);
  log('dist/demo-disk.img');
}

/** The backend SDK as a package entry ('pvkvm/backend-sdk') for third-party backends outside the tree. */
async function backendSdk() {
  await build({ ...common, entryPoints: { 'backend-sdk': join(root, 'dom0/backend-sdk/index.ts') }, outdir: dist });
  log('dist/backend-sdk.js');
}

async function guests() {
  const { buildGuests } = await import(pathToFileURL(join(root, 'domU-sdk/build-guests.mjs')).href);
  await buildGuests({ root, outDir: join(dist, 'guests') });
  log('guest images in dist/guests');
  // The installed guest SDK (pvkvm sdk cflags|ldflags|build): headers, runtime archive, link script.
  const { packageGuestSdk } = await import(pathToFileURL(join(root, 'domU-sdk/package-sdk.mjs')).href);
  await packageGuestSdk({ root, objDir: join(dist, 'guests', '.obj', 'sdk'), outDir: join(dist, 'sdk') });
  log('guest SDK in dist/sdk (include/, libpvkvm.a, link.ld)');
}

try {
  mkdirSync(dist, { recursive: true });
  await generateHeaders();
  await bundle();
  await backendSdk();
  await guests();
  demoDisk();
} catch (err) {
  process.stderr.write(`build failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
