// run.mjs: `node bench/run.mjs [NAME...]` — run benchmarks from the registry, print ratios, write
// bench/results/NAME.json (and a chart where the benchmark has one), then bench/results/report.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDir, machineInfo, root } from './lib.mjs';
import { writeCharts, writeReport } from './report.mjs';

/** The registry: name → what it measures. Each is bench/NAME.mjs exporting `async function run(ctx)`. */
const BENCHMARKS = {
  hypercall: 'null hypercall round trip, pvkvm ÷ the same KVM exit loop in C',
  boot: 'process start → first guest instruction → guest main → exit, vs node -e 0',
  evtchn: 'event-channel send (ioeventfd fast path) ÷ null hypercall, and the domU↔domU round trip',
  'grant-copy': 'GNTTABOP_copy of 4 KiB vs the guest copying 4 KiB itself',
  xenstore: 'xenstored READ/WRITE round trips over the Unix socket, and through a mock guest ring in-process',
  block: 'PV block: guest seq/random I/O through blkback ÷ the host on the same file; exits per request',
  'pv-vs-emulated': 'PV disk ÷ emulated ATA PIO disk (64 KiB sequential read) and PV NIC ÷ emulated NE2000 (UDP bulk, 64-byte packets, RTT), same guests; exits per 4 KiB and per packet; QEMU and host references',
  net: 'PV network: guest UDP bulk and 64-byte rates to the host (bridge + TAP) and to a guest (internal switch), ping RTT, exits and dom0 CPU per packet ÷ two host namespaces over veth',
  'guest-speed': 'domU-sdk guest code at CPL 3 ÷ the same code on the host (register loop, 4 KiB copy); kernel call, hypercall and interrupt costs',
};

function usage() {
  const list = Object.entries(BENCHMARKS).map(([n, d]) => `  ${n.padEnd(14)} ${d}`).join('\n');
  return `usage: node bench/run.mjs [NAME...]   (default: all, then bench/results/report.md)\n\nbenchmarks:\n${list}\n`;
}

const secs = (ms) => {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
};

/**
 * Where the run is. On a terminal (stderr is a TTY): one status line at the bottom — which
 * benchmark, its elapsed time and the whole run's — redrawn every 250 ms; anything else written
 * to stdout or stderr goes above it. Otherwise: a plain line as each benchmark starts.
 */
class Progress {
  constructor(total) {
    this.total = total;
    this.tty = process.stderr.isTTY === true && process.env.TERM !== 'dumb';
    this.runStart = Date.now();
    this.current = null;
    this.shown = false;
    this.timer = null;
    this.frame = 0;
    if (this.tty) {
      this.origOut = process.stdout.write.bind(process.stdout);
      this.origErr = process.stderr.write.bind(process.stderr);
      const wrap = (orig) => (chunk, ...rest) => {
        this.clear();
        const r = orig(chunk, ...rest);
        this.draw();
        return r;
      };
      process.stdout.write = wrap(this.origOut);
      process.stderr.write = wrap(this.origErr);
    }
  }

  clear() {
    if (this.shown) {
      this.origErr('\r\x1b[K');
      this.shown = false;
    }
  }

  draw() {
    if (!this.tty || this.current === null) return;
    const spin = '|/-\\'[this.frame++ % 4];
    const { name, index, start } = this.current;
    const line = `${spin} [${index}/${this.total}] ${name}: ${secs(Date.now() - start)}  (run: ${secs(Date.now() - this.runStart)})`;
    const width = process.stderr.columns || 80;
    this.origErr(`\r\x1b[K\x1b[7m${line.slice(0, width - 1)}\x1b[0m`);
    this.shown = true;
  }

  start(index, name) {
    this.current = { name, index, start: Date.now() };
    if (this.tty) {
      this.draw();
      this.timer ??= setInterval(() => this.draw(), 250);
      this.timer.unref();
    } else {
      process.stderr.write(`bench: [${index}/${this.total}] ${name} …\n`);
    }
  }

  end() {
    this.current = null;
    this.clear();
  }

  close() {
    this.end();
    if (this.timer) clearInterval(this.timer);
    if (this.tty) {
      process.stdout.write = this.origOut;
      process.stderr.write = this.origErr;
    }
  }
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

  const progress = new Progress(names.length);
  let failed = 0;
  try {
    for (const [i, name] of names.entries()) {
      const log = (msg) => process.stderr.write(`  [${name}] ${msg}\n`);
      const ctx = { name, root, benchDir, machine, log };
      const started = Date.now();
      progress.start(i + 1, name);
      try {
        const mod = await import(pathToFileURL(join(benchDir, `${name}.mjs`)).href);
        const { summary, ...numbers } = await mod.run(ctx);
        const record = { benchmark: name, date: new Date().toISOString(), machine, ...numbers };
        const file = join(resultsDir, `${name}.json`);
        writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
        const charts = await writeCharts(name, record, resultsDir).catch((err) => [`no chart (${err.message})`]);
        progress.end();
        const also = charts.length > 0 ? `; ${charts.join(', ')}` : '';
        process.stdout.write(`${name}: ${summary}  [${secs(Date.now() - started)}, ${file.slice(root.length + 1)}${also}]\n`);
      } catch (err) {
        failed++;
        progress.end();
        process.stdout.write(`${name}: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  } finally {
    progress.close();
  }
  try {
    const report = writeReport(resultsDir);
    process.stdout.write(`bench: report ${report.slice(root.length + 1)} (latest result of every benchmark)\n`);
  } catch (err) {
    process.stdout.write(`bench: report not written: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
