// in-process.mjs: load pvkvm's Hypervisor into the benchmark process (bundled on the fly), for
// benchmarks that need several domains in one hypervisor.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { guestsDir, root, importBundled } from './lib.mjs';

/** A Hypervisor whose vCPU threads run dist/vcpu-worker.js (run `node build.mjs` first). */
export async function loadHypervisor() {
  const { Hypervisor } = await importBundled('hypervisor/domain/hypervisor.ts', 'hypervisor', ['koffi']);
  return new Hypervisor(pathToFileURL(join(root, 'dist', 'vcpu-worker.js')));
}

/** Boot guest NAME in `hv`; resolves with its console output once it ends. */
export function runDomain(hv, name, guest, cmdline, extra = {}) {
  const dom = hv.createDomain({
    name, kernel: new Uint8Array(readFileSync(join(guestsDir, `${guest}.elf`))), kernelName: `${guest}.elf`,
    memoryMiB: 16, vcpus: 1, cmdline, modules: [], ...extra,
  });
  let out = '';
  dom.on('console', (s) => { out += s; });
  const done = new Promise((resolve) => dom.once('dead', (end) => resolve({ end, out })));
  return { dom, done };
}
