// report.mjs: the benchmarks' latest results as a Markdown report (bench/results/report.md) and
// charts (SVG, plus PNG when a renderer is at hand). `node bench/report.mjs` rebuilds both from
// the JSON files already in bench/results/; bench/run.mjs calls it after every run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDir } from './lib.mjs';

export const resultsDir = join(benchDir, 'results');

// ---- small formatting helpers ----

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A number with `sig` significant digits, plain notation (no exponent), or 'n/a'. */
export function fmtNum(x, sig = 3) {
  if (x === null || x === undefined || !Number.isFinite(Number(x))) return 'n/a';
  const v = Number(x);
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 10 ** sig || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  const decimals = Math.max(0, sig - 1 - Math.floor(Math.log10(abs)));
  return v.toFixed(Math.min(decimals, 6));
}

/** One line describing the machine a result was measured on. */
export function machineLine(m, date) {
  if (!m) return 'machine unknown';
  const kvm = (m.kvm_modules ?? []).join(', ') || 'none loaded';
  const day = date ? ` on ${String(date).slice(0, 10)}` : '';
  return `${m.cpu} (${m.nproc} CPUs), Linux ${m.kernel}, KVM modules ${kvm}, Node ${m.node}${day}`;
}

// ---- the pv-vs-emulated chart ----

const COLORS = { host: '#555555', pv: '#1f6fb4', pv_bounce: '#3d8bd0', pv_direct: '#6fa8dc', ata: '#e0701b', ata_irq: '#f2a76b', qemu: '#3a9a4a' };
const SHORT = {
  host: 'host\npread', pv: 'PV\nregistered', pv_bounce: 'PV\nbounced', pv_direct: 'PV\npersistent=0', ata: 'ATA PIO\npolled', ata_irq: 'ATA PIO\nIRQ 14', qemu: 'QEMU\nIDE',
};

/** Decades [lo, hi] covering the positive values (at least one decade). */
function decades(values) {
  const pos = values.filter((v) => Number.isFinite(v) && v > 0);
  if (pos.length === 0) return [0, 1];
  const lo = Math.floor(Math.log10(Math.min(...pos)));
  const hi = Math.ceil(Math.log10(Math.max(...pos)));
  return [lo, hi > lo ? hi : lo + 1];
}

const tickLabel = (e) => (e >= 0 ? (10 ** e).toLocaleString('en-US') : (10 ** e).toFixed(-e));

/**
 * One panel of vertical bars on a log axis. `groups`: [{ label, bars: [{ value, color, name }] }].
 * Zero or missing values get no bar, only their label at the baseline. `refLine`: { value, label }.
 */
function logBarPanel({ x, y, w, h, title, unit, groups, refLine }) {
  const all = groups.flatMap((g) => g.bars.map((b) => b.value)).concat(refLine ? [refLine.value] : []);
  const [lo, hi] = decades(all);
  const plotX = x + 52;
  const plotW = w - 60;
  const plotY = y + 50;
  const plotH = h - 50 - 40;
  const yOf = (v) => plotY + plotH - ((Math.log10(v) - lo) / (hi - lo)) * plotH;
  const out = [];
  out.push(`<text x="${x + w / 2}" y="${y + 14}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${x + w / 2}" y="${y + 28}" text-anchor="middle" font-size="11" fill="#444">${esc(unit)}</text>`);
  for (let e = lo; e <= hi; e++) {
    const ty = yOf(10 ** e);
    out.push(`<line x1="${plotX}" y1="${ty}" x2="${plotX + plotW}" y2="${ty}" stroke="#ddd" stroke-width="1"/>`);
    out.push(`<text x="${plotX - 5}" y="${ty + 4}" text-anchor="end" font-size="10" fill="#444">${tickLabel(e)}</text>`);
  }
  out.push(`<line x1="${plotX}" y1="${plotY}" x2="${plotX}" y2="${plotY + plotH}" stroke="#888"/>`);
  out.push(`<line x1="${plotX}" y1="${plotY + plotH}" x2="${plotX + plotW}" y2="${plotY + plotH}" stroke="#888"/>`);
  const groupW = plotW / groups.length;
  groups.forEach((g, gi) => {
    const n = g.bars.length;
    const barW = Math.min(46, (groupW * 0.8) / n);
    const startX = plotX + gi * groupW + (groupW - barW * n) / 2;
    g.bars.forEach((b, bi) => {
      const bx = startX + bi * barW;
      const has = Number.isFinite(b.value) && b.value > 0;
      const top = has ? Math.max(plotY, yOf(Math.max(b.value, 10 ** lo))) : plotY + plotH;
      if (has) {
        out.push(`<rect x="${bx + 1}" y="${top}" width="${barW - 2}" height="${plotY + plotH - top}" fill="${b.color}"><title>${esc(`${b.name}: ${fmtNum(b.value, 4)}`)}</title></rect>`);
      }
      const text = b.value === null || b.value === undefined ? 'n/a' : fmtNum(b.value, 3);
      out.push(`<text x="${bx + barW / 2}" y="${top - 4}" text-anchor="middle" font-size="10">${esc(text)}</text>`);
    });
    // Group label: one text line per "\n".
    const words = g.label.split('\n');
    words.forEach((line, li) => {
      out.push(`<text x="${plotX + gi * groupW + groupW / 2}" y="${plotY + plotH + 15 + li * 12}" text-anchor="middle" font-size="11">${esc(line)}</text>`);
    });
  });
  if (refLine && Number.isFinite(refLine.value) && refLine.value > 0) {
    const ry = yOf(refLine.value);
    out.push(`<line x1="${plotX}" y1="${ry}" x2="${plotX + plotW}" y2="${ry}" stroke="#c00" stroke-width="1.2" stroke-dasharray="5,4"/>`);
    out.push(`<text x="${plotX + 4}" y="${ry - 4}" text-anchor="start" font-size="10" fill="#c00">${esc(refLine.label)}</text>`);
  }
  return out.join('\n');
}

/** The SVG chart of a pv-vs-emulated record: throughput and exits per 4 KiB, log scales. */
export function pvVsEmulatedSvg(rec) {
  const c = rec.configs ?? {};
  const W = 1000;
  const netRows = rec.network?.configs;
  const NET_H = netRows ? 400 : 0;
  const H = 450 + NET_H;
  const order = ['host', 'pv', 'pv_bounce', 'pv_direct', 'ata', 'ata_irq', 'qemu'].filter((k) => c[k]);
  const nameOf = (k) => (k === 'qemu' ? `QEMU ${String(c.qemu.accel ?? '').toUpperCase()}\nIDE` : SHORT[k]);
  const left = logBarPanel({
    x: 10, y: 58, w: 470, h: 450 - 58 - 30,
    title: 'Sequential read, 64 KiB requests', unit: 'MB/s, log scale (higher is better)',
    groups: order.map((k) => ({ label: nameOf(k), bars: [{ value: c[k].mb_s, color: COLORS[k], name: nameOf(k).replace('\n', ' ') }] })),
  });
  const exitOrder = order.filter((k) => k !== 'host');
  const right = logBarPanel({
    x: 500, y: 58, w: 490, h: 450 - 58 - 30,
    title: 'Exits per 4 KiB read', unit: 'log scale (lower is better); solid: to user space, light: all KVM traced',
    groups: exitOrder.map((k) => ({
      label: nameOf(k),
      bars: [
        { value: c[k].exits_per_4k, color: COLORS[k], name: `${nameOf(k).replace('\n', ' ')} user-space exits per 4 KiB` },
        { value: c[k].kernel_exits_per_4k, color: `${COLORS[k]}88`, name: `${nameOf(k).replace('\n', ' ')} KVM-traced exits per 4 KiB` },
      ],
    })),
    refLine: rec.targets?.exits_per_4k_pv ? { value: rec.targets.exits_per_4k_pv, label: `PV target ≤ ${rec.targets.exits_per_4k_pv}` } : null,
  });
  const net = netRows ? networkPanels(rec, 450 - 30 + 10, NET_H) : '';
  const speed = fmtNum(rec.seq_read_speedup, 3);
  const title = `pvkvm: PV disk vs emulated ATA PIO — same guest and image, one bench run: PV ÷ ATA = ${speed}× (target ≥ ${rec.targets?.seq_read_speedup ?? 20}×)`;
  // The guest's driver code runs at CPL 3 (natively) in the SDK's default mode; at CPL 0 this host's
  // KVM emulates it, which shrinks every guest-driven rate: say which mode the figures come from.
  const foot = 'One guest image for every configuration; compare within the run. ' +
    `${rec.seq_mib ?? '?'} MiB read, QD ${rec.qd ?? '?'}, median of ${rec.runs ?? '?'} run${rec.runs === 1 ? '' : 's'} each.`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<rect width="${W}" height="${H}" fill="#ffffff"/>
<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>
<text x="${W / 2}" y="44" text-anchor="middle" font-size="11" fill="#444">${esc(machineLine(rec.machine, rec.date))}</text>
${left}
${right}
${net}
<text x="${W / 2}" y="${H - 12}" text-anchor="middle" font-size="10.5" fill="#444">${esc(foot)}</text>
</svg>
`;
}

const NET_ORDER = ['host', 'pv', 'ne2k', 'qemu'];
const NET_COLORS = { host: COLORS.host, pv: COLORS.pv, ne2k: COLORS.ata, qemu: COLORS.qemu };
const netName = (k, x) => ({ host: 'host\nveth', pv: 'PV\nnetfront', ne2k: 'NE2000\nmodel', qemu: `QEMU ${String(x?.accel ?? '').toUpperCase()}\nne2k_isa` }[k]);

/** The network row: bulk UDP Mb/s, 64-byte packets/s and exits per packet, per NIC (log scales). */
function networkPanels(rec, y, h) {
  const c = rec.network.configs;
  const order = NET_ORDER.filter((k) => c[k]);
  const panel = (x, w, title, unit, field, keys) => logBarPanel({
    x, y: y + 26, w, h: h - 66, title, unit,
    groups: keys.map((k) => ({ label: netName(k, c[k]), bars: [{ value: c[k][field], color: NET_COLORS[k], name: netName(k, c[k]).replace('\n', ' ') }] })),
  });
  const sp = (v) => fmtNum(v, 3);
  const head = `<text x="500" y="${y + 12}" text-anchor="middle" font-size="14" font-weight="bold">${esc(
    `Network: the same guest sending UDP — PV ÷ NE2000 = ${sp(rec.net_bulk_speedup)}× bulk (target ≥ 3×), ${sp(rec.net_small_speedup)}× 64-byte (target ≥ 5×)`)}</text>`;
  return [head,
    panel(10, 330, 'Bulk UDP, 1472-byte payloads', 'Mb/s received, log (higher is better)', 'bulk_mbps', order),
    panel(340, 330, '64-byte frames', 'packets/s received, log (higher is better)', 'small_pps', order),
    panel(670, 320, 'Exits per packet (bulk)', 'to user space, log (lower is better)', 'exits_per_packet', order.filter((k) => k !== 'host')),
  ].join('\n');
}

// ---- PNG rendering ----

/**
 * Render an SVG file to PNG with whatever is at hand: the npm package @resvg/resvg-js (a dev
 * dependency), else `rsvg-convert` (librsvg2-bin), else ImageMagick's `convert` (the real one).
 * Resolves to { ok, how } or { ok: false, why }.
 */
export async function renderPng(svgPath, pngPath) {
  const svg = readFileSync(svgPath);
  try {
    const { Resvg } = await import('@resvg/resvg-js');
    const png = new Resvg(svg, { background: '#ffffff', fitTo: { mode: 'zoom', value: 1.5 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
    writeFileSync(pngPath, png);
    return { ok: true, how: '@resvg/resvg-js' };
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') return { ok: false, why: `@resvg/resvg-js: ${err.message}` };
  }
  if (spawnSync('rsvg-convert', ['--version'], { stdio: 'ignore' }).status === 0) {
    execFileSync('rsvg-convert', ['-z', '1.5', '-b', 'white', '-o', pngPath, svgPath]);
    return { ok: true, how: 'rsvg-convert' };
  }
  const im = spawnSync('convert', ['-version'], { encoding: 'utf8' });
  if (im.status === 0 && /ImageMagick/.test(im.stdout)) {
    execFileSync('convert', ['-density', '144', svgPath, pngPath]);
    return { ok: true, how: 'ImageMagick convert' };
  }
  return { ok: false, why: 'no SVG renderer: install the dev dependency @resvg/resvg-js, or rsvg-convert (librsvg2-bin)' };
}

/** Charts for one benchmark's record (only pv-vs-emulated has one); returns notes on what was written. */
export async function writeCharts(name, record, dir = resultsDir) {
  if (name !== 'pv-vs-emulated' || !record.configs) return [];
  const svgPath = join(dir, `${name}.svg`);
  writeFileSync(svgPath, pvVsEmulatedSvg(record));
  const png = await renderPng(svgPath, join(dir, `${name}.png`)).catch((err) => ({ ok: false, why: err.message }));
  return [`${name}.svg`, png.ok ? `${name}.png (${png.how})` : `no PNG (${png.why})`];
}

// ---- the Markdown report ----

/** What each benchmark is judged by: [label, field, target, 'le' | 'ge' | null (no target)]. */
const GOALS = {
  hypercall: [
    ['null hypercall round trip, pvkvm ÷ C (hypercall page)', (r) => r.ratio, (r) => r.target_ratio ?? 1.1, 'le'],
    ['the same, bare `out` (raw)', (r) => r.raw_ratio, null, null],
  ],
  evtchn: [
    ['event-channel kick ÷ user-space null hypercall', (r) => r.kick_ratio, (r) => r.target_kick_ratio ?? 0.15, 'le'],
    ['domU↔domU ping-pong round trip, µs', (r) => r.pingpong_us, null, null],
  ],
  'grant-copy': [
    ['GNTTABOP_copy 4 KiB ÷ guest copy (throughput)', (r) => r.ratio_vs_memcpy, (r) => r.target_ratio ?? 0.5, 'ge'],
  ],
  boot: [
    ['spawn → first guest instruction, ms (goal: Node start-up + 5 ms)', (r) => r.spawn_to_first_instruction_ms, (r) => r.goal_ms, 'le'],
    ['… ÷ `node -e 0`', (r) => r.ratio, null, null],
    ['`create` → first instruction, daemons up, ms', (r) => r.create_to_first_instruction_ms, null, null],
  ],
  xenstore: [
    ['guest ring ops/s ÷ in-process socket ops/s', (r) => r.guest_to_socket_ratio, null, null],
    ['guest ring ops/s ÷ dom0 socket ops/s', (r) => r.guest_to_dom0_socket_ratio, null, null],
  ],
  block: [
    ['PV seq read ÷ host (64 KiB)', (r) => r.seq_read_vs_host, (r) => r.targets?.seq_read_vs_host ?? 0.8, 'ge'],
    ['PV 4 KiB QD1 added latency over host, µs', (r) => r.qd1_added_latency_us, (r) => r.targets?.qd1_added_latency_us ?? 50, 'le'],
    ['user-space exits per 4 KiB request, QD 8', (r) => r.exits_per_request, (r) => r.targets?.exits_per_request ?? 0.25, 'le'],
    ['KVM-traced exits per request, QD 8', (r) => r.kernel_exits_per_request, null, null],
  ],
  'pv-vs-emulated': [
    ['PV ÷ emulated ATA PIO, 64 KiB seq read', (r) => r.seq_read_speedup, (r) => r.targets?.seq_read_speedup ?? 20, 'ge'],
    ['user-space exits per 4 KiB, PV', (r) => r.exits_per_4k_pv, (r) => r.targets?.exits_per_4k_pv ?? 0.25, 'le'],
    ['user-space exits per 4 KiB, emulated ATA', (r) => r.exits_per_4k_emulated, null, null],
    ['exits per 4 KiB, PV ÷ ATA (docs/performance.md §2, G3: ≤ 1/40)', (r) => r.exits_ratio_pv_vs_emulated, (r) => r.targets?.exits_ratio_pv_vs_emulated ?? 0.025, 'le'],
    ['PV ÷ QEMU IDE, 64 KiB seq read', (r) => r.seq_read_pv_vs_qemu, null, null],
    ['network: PV ÷ NE2000 model, bulk UDP (1472 B)', (r) => r.net_bulk_speedup, (r) => r.network?.targets?.net_bulk_speedup ?? 3, 'ge'],
    ['network: PV ÷ NE2000 model, 64-byte packets', (r) => r.net_small_speedup, (r) => r.network?.targets?.net_small_speedup ?? 5, 'ge'],
    ['network: exits per packet, PV', (r) => r.net_exits_per_packet_pv, null, null],
    ['network: exits per packet, NE2000 model', (r) => r.net_exits_per_packet_emulated, null, null],
  ],
  'guest-speed': [
    ['register loop, guest (default mode) ÷ host', (r) => r.loop_vs_native, (r) => r.target_loop_vs_native ?? 1.5, 'le'],
    ['4 KiB copy, guest ÷ host', (r) => r.memcpy_vs_native, null, null],
    ['hypercall from user code, cycles', (r) => r.hypercall_from_user_cycles, null, null],
  ],
};
const ORDER = ['hypercall', 'boot', 'evtchn', 'grant-copy', 'xenstore', 'block', 'pv-vs-emulated', 'guest-speed'];

function readResults(dir) {
  const out = {};
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    try { out[f.slice(0, -5)] = JSON.parse(readFileSync(join(dir, f), 'utf8')); } catch { /* not ours or half written */ }
  }
  return out;
}

function pvVsEmulatedSection(r) {
  const c = r.configs ?? {};
  const rows = ['host', 'pv', 'pv_bounce', 'pv_direct', 'ata', 'ata_irq', 'qemu'].filter((k) => c[k]).map((k) => {
    const x = c[k];
    const kinds = x.exits_per_4k_by_kind ? Object.entries(x.exits_per_4k_by_kind).map(([kk, v]) => `${kk} ${fmtNum(v)}`).join(', ') : '';
    return `| ${x.label} | ${fmtNum(x.mb_s)} | ${fmtNum(x.iops)} | ${fmtNum(x.avg_lat_us)} | ${fmtNum(x.p50_lat_us)} | ${fmtNum(x.p99_lat_us)} | ${fmtNum(x.max_lat_us)} | ` +
      `${fmtNum(x.exits_per_4k)}${kinds ? ` (${kinds})` : ''} | ${fmtNum(x.kernel_exits_per_4k)} | ${fmtNum(x.emulated_insns_per_4k)} | ${fmtNum(x.cpu?.ms_per_mib)} |`;
  });
  // The PNG only when it is at least as new as the SVG (it is not redrawn without a renderer).
  const mtime = (f) => (existsSync(join(resultsDir, f)) ? statSync(join(resultsDir, f)).mtimeMs : -1);
  const chart = mtime('pv-vs-emulated.png') >= mtime('pv-vs-emulated.svg') ? 'pv-vs-emulated.png' : 'pv-vs-emulated.svg';
  return [
    '### pv-vs-emulated: every configuration',
    '',
    `![PV vs emulated ATA PIO](${chart})`,
    '',
    '| configuration | MB/s | IOPS | avg latency µs | p50 µs | p99 µs | max latency µs | user-space exits / 4 KiB (by kind) | KVM-traced exits / 4 KiB | emulated insns / 4 KiB | CPU ms / MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Latency percentiles: ${r.latency_percentiles ?? 'n/a'}. QEMU: ${r.qemu?.available ? `${r.qemu.accel}${r.qemu.fallback ? ` (${r.qemu.fallback})` : ''}` : r.qemu?.why ?? 'n/a'}. ` +
      `CPU: pvkvm's hypervisor and dom0 processes (QEMU: its process) over the measured window; host: the bench process. ` +
      `QEMU's user-space exits are its KVM_RUN returns (\`kvm_userspace_exit\`).`,
    '',
    ...networkSection(r),
  ].join('\n');
}

/** The network rows of pv-vs-emulated (none when the section was left out). */
function networkSection(r) {
  const n = r.network;
  if (!n?.configs) return [];
  const kinds = (o) => (o ? Object.entries(o).map(([k, v]) => `${k} ${fmtNum(v)}`).join(', ') : '');
  const rows = NET_ORDER.filter((k) => n.configs[k]).map((k) => {
    const x = n.configs[k];
    return `| ${x.label} | ${fmtNum(x.bulk_mbps)} | ${x.bulk_lost ?? 'n/a'} | ${fmtNum(x.small_pps)} | ${x.small_lost ?? 'n/a'} | ${fmtNum(x.rtt_p50_us)} | ${fmtNum(x.rtt_p99_us)} | ` +
      `${fmtNum(x.exits_per_packet)}${x.exits_per_packet_by_kind ? ` (${kinds(x.exits_per_packet_by_kind)})` : ''} | ${fmtNum(x.exits_per_packet_small)} | ${fmtNum(x.cpu_us_per_packet)} | ${fmtNum(x.cpu_us_per_packet_small)} |`;
  });
  const w = n.workload ?? {};
  return [
    '### pv-vs-emulated: the network',
    '',
    `net_bulk_speedup (PV ÷ NE2000 model, bulk UDP) **${fmtNum(r.net_bulk_speedup)}**, net_small_speedup (64-byte) **${fmtNum(r.net_small_speedup)}**; ` +
      `exits per packet PV ${fmtNum(r.net_exits_per_packet_pv)}, NE2000 ${fmtNum(r.net_exits_per_packet_emulated)}.`,
    '',
    '| NIC | bulk Mb/s | bulk lost | 64-byte pps | 64-byte lost | RTT p50 µs | RTT p99 µs | exits / packet, bulk (by kind) | exits / packet, 64-byte | CPU µs / packet, bulk | CPU µs / packet, 64-byte |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Workload: ${w.guest ?? ''}; bulk ${w.bulk ?? ''}; small ${w.small ?? ''}. Receivers: ${w.receiver ?? ''}. Throughput: ${w.throughput ?? ''}. ` +
      `RTT: ${w.rtt ?? ''}. Exits: ${w.exits_per_packet ?? ''}. CPU: ${w.cpu ?? ''}. QEMU: ${n.qemu?.available ? n.qemu.accel : n.qemu?.why ?? 'n/a'}` +
      `${n.host_error ? `; host reference unavailable: ${n.host_error}` : ''}.`,
    '',
  ];
}

/** Write bench/results/report.md from the JSON files there; returns its path. */
export function writeReport(dir = resultsDir) {
  const results = readResults(dir);
  const names = [...ORDER.filter((n) => results[n]), ...Object.keys(results).filter((n) => !ORDER.includes(n))];
  const lines = [
    '# pvkvm benchmark report',
    '',
    'The latest result of each benchmark in `bench/results/` (written by `npm run bench`; rebuild with',
    '`node bench/report.mjs`). Ratios are measured within one run of one benchmark; targets are docs/performance.md §2\'s',
    'and are reported, not enforced. On this project\'s hosts guest code runs in KVM\'s instruction emulator',
    '(see the top-level README, "Guest speed"), which sinks every guest-side rate: read the exit counts',
    'and the same-run ratios, not the absolute speeds. `bench/README.md` explains every field.',
    '',
    '| benchmark | measure | measured | target | vs target | date |',
    '|---|---|---|---|---|---|',
  ];
  for (const n of names) {
    const r = results[n];
    const goals = GOALS[n] ?? [];
    const date = String(r.date ?? '').slice(0, 16).replace('T', ' ');
    if (goals.length === 0) {
      lines.push(`| ${n} | (no summary) | | | | ${date} |`);
      continue;
    }
    for (const [label, get, tgt, dir_] of goals) {
      const v = get(r);
      const t = tgt ? tgt(r) : null;
      let verdict = '';
      if (dir_ && Number.isFinite(v) && Number.isFinite(t)) verdict = (dir_ === 'le' ? v <= t : v >= t) ? 'within' : 'outside';
      const tText = t === null || t === undefined ? '—' : `${dir_ === 'le' ? '≤' : '≥'} ${fmtNum(t, 3)}`;
      lines.push(`| ${n} | ${label} | ${fmtNum(v, 3)} | ${tText} | ${verdict} | ${date} |`);
    }
  }
  lines.push('');
  if (results['pv-vs-emulated']) lines.push(pvVsEmulatedSection(results['pv-vs-emulated']));
  const machines = new Map();
  for (const n of names) {
    const key = machineLine(results[n].machine);
    machines.set(key, [...(machines.get(key) ?? []), n]);
  }
  lines.push('## Machines', '');
  for (const [m, ns] of machines) lines.push(`- ${ns.join(', ')}: ${m}`);
  lines.push('');
  const file = join(dir, 'report.md');
  writeFileSync(file, lines.join('\n'));
  return file;
}

// `node bench/report.mjs`: rebuild the charts and the report from the results already there.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const pve = join(resultsDir, 'pv-vs-emulated.json');
  if (existsSync(pve)) {
    const notes = await writeCharts('pv-vs-emulated', JSON.parse(readFileSync(pve, 'utf8')));
    process.stdout.write(`charts: ${notes.join(', ')}\n`);
  }
  process.stdout.write(`report: ${writeReport()}\n`);
}
