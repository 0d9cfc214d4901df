// top.ts: `pvkvm top`, a live xentop-like view — each sample is one `top` request to dom0 (counters
// that only grow); two samples make CPU% and exits/s. Batch mode prints plain frames for scripts.
import { parse, runDirOf, helpRequested, RUN_DIR_HELP, type Command } from '../command.ts';
import { UsageError } from '../usage-error.ts';
import { ControlClient } from '../control-client.ts';
import { text, num } from './domain-commands.ts';

/** A sample as dom0 sent it: every field is checked before use (the socket is not trusted). */
interface Sample { readonly atMs: number; readonly rows: readonly Record<string, unknown>[] }

const MAX_DELAY_S = 3600;

function toSample(v: unknown, localMs: number): Sample {
  const o = (typeof v === 'object' && v !== null ? v : {}) as { at_ms?: unknown; domains?: unknown };
  const rows = Array.isArray(o.domains) ? o.domains.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null).slice(0, 1024) : [];
  return { atMs: typeof o.at_ms === 'number' && Number.isFinite(o.at_ms) ? o.at_ms : localMs, rows };
}

function field(row: Record<string, unknown> | undefined, ...path: string[]): number {
  let v: unknown = row;
  for (const k of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

/** Change per second of a counter between two samples; NaN when either is missing or it went back. */
function rate(cur: number, prev: number, seconds: number): number {
  const d = cur - prev;
  return seconds > 0 && d >= 0 ? d / seconds : NaN;
}

const COLUMNS: readonly [string, number][] = [
  ['NAME', -20], ['ID', 5], ['STATE', -8], ['CPU(sec)', 9], ['CPU(%)', 7], ['MEM(MiB)', 9], ['MAXMEM', 7], ['VCPUS', 6],
  ['EXITS/s', 9], ['NETS', 5], ['NETTX(k)', 9], ['NETRX(k)', 9], ['VBDS', 5], ['VBD_RD', 8], ['VBD_WR', 8], ['VBD_RSECT', 10], ['VBD_WSECT', 10], ['VBD_ERR', 8],
];

function line(cells: readonly string[]): string {
  return cells.map((c, i) => {
    const w = COLUMNS[i]![1];
    return w < 0 ? c.slice(0, -w).padEnd(-w) : c.slice(0, w).padStart(w);
  }).join(' ').trimEnd();
}

/** One frame: a summary line, the header and a row per domain (the rows of `cur`). */
export function renderFrame(prev: Sample, cur: Sample, clock: Date): string {
  const secs = (cur.atMs - prev.atMs) / 1000;
  const states = cur.rows.map((r) => text(r.state, 12));
  const count = (s: string): number => states.filter((x) => x === s).length;
  let out = `pvkvm top - ${clock.toTimeString().slice(0, 8)}   ${cur.rows.length} domains: ${count('running')} running, ` +
    `${count('paused')} paused, ${cur.rows.length - count('running') - count('paused')} other\n`;
  out += `${line(COLUMNS.map((c) => c[0]))}\n`;
  for (const r of cur.rows) {
    const p = prev.rows.find((x) => x.domid === r.domid && x.name === r.name);
    const f = (...path: string[]): number => field(r, ...path);
    const pf = (...path: string[]): number => field(p, ...path);
    const cpuPct = rate(f('cpu_time_s'), pf('cpu_time_s'), secs) * 100;
    const exits = rate(f('exits'), pf('exits'), secs);
    const maxMem = f('max_memory_mib');
    out += `${line([
      text(r.name, 20), num(r.domid), text(r.state, 8), num(f('cpu_time_s'), 1), num(cpuPct, 1), num(f('memory_mib')),
      maxMem > 0 ? num(maxMem) : '-', num(f('vcpus')), num(exits), num(f('vifs')),
      num(f('net', 'txBytes') / 1024), num(f('net', 'rxBytes') / 1024), num(f('vbds')),
      num(f('vbd', 'rdReq')), num(f('vbd', 'wrReq')), num(f('vbd', 'rdSect')), num(f('vbd', 'wrSect')), num(f('vbd', 'errors')),
    ])}\n`;
  }
  return out;
}

export const top: Command = {
  name: 'top',
  synopsis: 'pvkvm top [-d S] [-i N] [-b]     live view of the domains (CPU%, memory, exits/s, disks, net)',
  help: `Usage: pvkvm top [-d SECONDS] [-i N] [-b] [--run-dir DIR]

A live view of every domain, as xentop: one row per domain (Domain-0 first) with its state,
CPU(sec) and CPU(%) (its vCPU threads' CPU time; 100% is one host CPU), memory and its maximum
(MiB), vCPUs, EXITS/s (KVM exits per second), its vifs with kB sent and received, and its PV disks
with read and write requests, sectors read and written, and failed requests.

Each frame compares two samples SECONDS apart. Interactive mode redraws the screen; q or Ctrl-C
quits.

  -d, --delay SECONDS      time between frames (default 1; fractions allowed)
  -i, --iterations N       stop after N frames
  -b, --batch              print plain frames one after another (for scripts; implied when
                           output is not a terminal)
${RUN_DIR_HELP}`,
  async run(argv) {
    const p = parse('top', argv, { delay: { type: 'string', short: 'd' }, iterations: { type: 'string', short: 'i' }, batch: { type: 'boolean', short: 'b' } });
    if (helpRequested(p, top)) return 0;
    if (p.positionals.length > 0) throw new UsageError(`top: unexpected argument '${p.positionals[0]!.slice(0, 32)}'`);
    const delayS = p.values.delay === undefined ? 1 : Number(p.values.delay as string);
    if (!Number.isFinite(delayS) || delayS <= 0 || delayS > MAX_DELAY_S || !/^\d*\.?\d+$/.test(String(p.values.delay ?? '1'))) {
      throw new UsageError(`top: -d must be a number of seconds above 0 and at most ${MAX_DELAY_S}`);
    }
    const iterRaw = p.values.iterations as string | undefined;
    if (iterRaw !== undefined && !/^[1-9]\d{0,8}$/.test(iterRaw)) throw new UsageError('top: -i must be a whole number of frames, 1 or more');
    const iterations = iterRaw === undefined ? Infinity : Number(iterRaw);
    const interactive = p.values.batch !== true && process.stdout.isTTY === true;

    const c = await ControlClient.connect(runDirOf(p));
    let quit = false;
    let wake: (() => void) | null = null;
    const stop = (): void => {
      quit = true;
      wake?.();
    };
    const onKey = (b: Buffer): void => {
      if (b.includes(0x71) || b.includes(0x51) || b.includes(0x03)) stop(); // q, Q, Ctrl-C (raw mode)
    };
    const rawInput = interactive && process.stdin.isTTY === true;
    if (rawInput) {
      process.stdin.setRawMode(true);
      process.stdin.on('data', onKey);
    }
    process.on('SIGINT', stop);
    c.on('close', stop);
    try {
      const sample = async (): Promise<Sample> => toSample(await c.request<unknown>('top'), performance.now());
      let prev = await sample();
      for (let frame = 0; frame < iterations && !quit; frame++) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delayS * 1000);
          wake = () => { clearTimeout(t); resolve(); };
        });
        wake = null;
        if (quit) break;
        const cur = await sample();
        const body = renderFrame(prev, cur, new Date());
        // Interactive: home the cursor and clear, so the frame replaces the last one.
        process.stdout.write(interactive ? `\x1b[H\x1b[2J${body}` : `${body}\n`);
        prev = cur;
      }
    } catch (err) {
      if (!quit) throw err;
    } finally {
      process.off('SIGINT', stop);
      if (rawInput) {
        process.stdin.off('data', onKey);
        process.stdin.setRawMode(false);
        process.stdin.pause();
      }
      c.close();
    }
    return 0;
  },
};
