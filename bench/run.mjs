// run.mjs: `node bench/run.mjs [NAME...]` — run benchmarks from the registry, print ratios, write bench/results/NAME.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDir, machineInfo, root } from './lib.mjs';

/** The registry: name → what it measures. Each is bench/NAME.mjs exporting `async function run(ctx)`. */
const BENCHMARKS = {
  hypercall: 'null hypercall round trip, pvkvm ÷ the same KVM exit loop in C',
  boot: 'process start → first guest instruction → guest main → exit, vs node -e 0',
  evtchn: 'event-channel send (ioeventfd fast path) ÷ null hypercall, and the domU↔domU round trip',
  'grant-copy': 'GNTTABOP_copy of 4 KiB vs the guest copying 4 KiB itself',
  xenstore: 'xenstored READ/WRITE round trips over the Unix socket, and through a mock guest ring in-process',
  block: 'PV block: guest seq/random I/O through blkback ÷ the host on the same file; exits per request',
};

function usage() {
  const list = Object.entries(BENCHMARKS).map(([n, d]) => `  ${n.padEnd(10)} ${d}`).join('\n');
  return `usage: node bench/run.mjs [NAME...]   (default: all)\n\nbenchmarks:\n${list}\n`;
}

async function main(argv) {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(usage());
    return 0;
  }
  const names = argv.length > 0 ? argv : Object.keys(BENCHMARKS);
  const unknown = names.filter((n) => !Object.hasOwn(BENCHMARKS, n));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark '${unknown[0]}' (known: ${Object.keys(BENCHMARKS).join(', ')})\n`);
    return 2;
  }

  const machine = machineInfo();
  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  process.stdout.write(`bench: ${machine.cpu}, ${machine.nproc} CPUs, Linux ${machine.kernel}, node ${machine.node}\n`);

  let failed = 0;
  for (const name of names) {
    const log = (msg) => process.stderr.write(`  [${name}] ${msg}\n`);
    const ctx = { name, root, benchDir, machine, log };
    const started = Date.now();
    try {
      const mod = await import(pathToFileURL(join(benchDir, `${name}.mjs`)).href);
      const { summary, ...numbers } = await mod.run(ctx);
      const record = { benchmark: name, date: new Date().toISOString(), machine, ...numbers };
      const file = join(resultsDir, `${name}.json`);
      writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`${name}: ${summary}  [${secs} s, ${file.slice(root.length + 1)}]\n`);
    } catch (err) {
      failed++;
      process.stdout.write(`${name}: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
