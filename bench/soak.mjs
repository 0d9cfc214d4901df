// soak.mjs: `npm run soak` — pvkvm under load for a bounded time (test/helpers/soak/: verified
// disk I/O, guest-to-guest UDP, console traffic, create/destroy churn), then what it tried, what
// survived and bench/results/soak.json; exits 1 if a daemon grew or any I/O failed.
//   node bench/soak.mjs [--minutes M] [--disk N] [--net N] [--flood N] [--churn N]
//   (env: PVKVM_SOAK_MINUTES, _DISK, _NET, _FLOOD, _CHURN; defaults 10, 3, 2, 1, 2)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { importBundled, machineInfo, root } from './lib.mjs';

const DEFAULTS = { minutes: 10, disk: 3, net: 2, flood: 1, churn: 2 };
const usage = 'usage: node bench/soak.mjs [--minutes M] [--disk N] [--net N] [--flood N] [--churn N]';
const given = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const name = argv[i].replace(/^--/, '');
  if (argv[i] === '--help' || argv[i] === '-h') { console.log(usage); process.exit(0); }
  if (!argv[i].startsWith('--') || !(name in DEFAULTS) || argv[i + 1] === undefined) {
    console.error(`soak: bad argument '${argv[i]}' (${usage})`);
    process.exit(2);
  }
  given[name] = argv[i + 1];
}
const arg = (name) => {
  const raw = given[name] ?? process.env[`PVKVM_SOAK_${name.toUpperCase()}`] ?? String(DEFAULTS[name]);
  const v = Number(raw);
  if (raw === '' || !Number.isFinite(v) || v < 0 || (name !== 'minutes' && !Number.isInteger(v))) {
    console.error(`soak: --${name} wants a non-negative ${name === 'minutes' ? 'number' : 'integer'}, not '${raw}'`);
    process.exit(2);
  }
  return v;
};
const minutes = arg('minutes');
const seconds = Math.max(30, Math.round(minutes * 60));
if (!existsSync(path.join(root, 'dist', 'guests', 'blkwork.elf'))) {
  console.error('soak: dist/guests/blkwork.elf is missing: build first (npm run build)');
  process.exit(2);
}

// The core is TypeScript shared with test/soak.test.ts, bundled to bench/build/soak.mjs; that
// sits as deep under the repository as test/helpers/, so the helpers find dist/ from there.
const { runSoak, DEFAULT_ALLOWANCE } = await importBundled('test/helpers/soak/soak.ts', 'soak');
const options = {
  seconds,
  warmupSeconds: Math.min(60, Math.round(seconds / 5)),
  diskGuests: arg('disk'), netGuests: arg('net'), floodGuests: arg('flood'), churnLanes: arg('churn'),
  diskOps: 20000, netEchoes: 500, floodMiB: 2,
  sampleEveryMs: 10_000,
  guestLimitSeconds: 240,
  allowance: DEFAULT_ALLOWANCE,
  keepLogsIn: path.join(root, 'bench', 'results', 'soak-logs'),
  log: (line) => console.log(line),
};
console.log(`soak: ${seconds} s: ${options.diskGuests} disk guests (blkwork random, ${options.diskOps} ops a run), ${options.netGuests} UDP echo guests ` +
  `(${options.netEchoes} echoes a run), ${options.floodGuests} console flooders (${options.floodMiB} MiB a run), ${options.churnLanes} create/destroy lane(s), ` +
  'a console client attaching and detaching, a resident responder and console echo');
const r = await runSoak(options);
const out = { benchmark: 'soak', date: new Date().toISOString(), machine: machineInfo(), ...r };
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'bench', 'results', 'soak.json'), `${JSON.stringify(out, null, 2)}\n`);

const mib = (kib) => (kib / 1024).toFixed(1);
console.log(`soak: tried ${r.guests} guests in ${r.seconds} s: ${r.cycles} create/destroy cycles, ${r.disk_runs} disk runs (${r.disk_verified_ops} verified ops), ` +
  `${r.net_runs} UDP echo runs (${r.net_echoes} echoes verified, ${r.net_lost} lost to timeouts), ${r.console_sessions} console sessions, ` +
  `${r.console_flood_runs} console floods (${mib(r.console_flood_bytes / 1024)} MiB; ${r.console_flood_unverified} more whose end dom0 dropped for the lagging client)`);
for (const k of ['hypervisor', 'dom0']) {
  const { warm, end } = r.daemons[k];
  console.log(`soak: ${k}: fds ${warm.fds} → ${end.fds}, threads ${warm.threads} → ${end.threads}, RSS ${mib(warm.rssKiB)} → ${mib(end.rssKiB)} MiB`);
}
console.log(`soak: fd_growth ${r.fd_growth}, threads_growth ${r.threads_growth}, rss_growth_mib ${r.rss_growth_mib}, io_errors ${r.io_errors} ` +
  `(allowed: ${r.allowance.fds} fds, ${r.allowance.threads} threads, ${r.allowance.rssMiB} MiB, no I/O error)`);
console.log(`soak: dom0 answered every toolstack ping within ${r.dom0_ping_max_ms} ms (${r.dom0_pings_over_5s} over 5 s)`);
for (const f of r.failures) console.log(`soak: FAILED: ${f}`);
console.log(`soak: ${r.passed ? 'survived' : 'FAILED'} → bench/results/soak.json`);
process.exit(r.passed ? 0 : 1);
