// stress.mjs: `npm run stress` — the test suite with the machine's other core(s) busy: busy-loop
// hog processes (one per core but one, or --hogs N) run for as long as `npm test` does, and are
// stopped whatever happens; prints the suite's result line and the wall time. Tests must not
// depend on a quiet machine.
//   node tools/stress.mjs [--hogs N] [TEST FILES or tap options...]   (the rest goes to `npm test --`)
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
let hogs = Math.max(1, availableParallelism() - 1);
const passThrough = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--hogs') {
    const v = argv[++i];
    if (v === undefined || !/^\d+$/.test(v)) {
      console.error(`stress: --hogs wants a non-negative integer, not '${v ?? ''}'`);
      process.exit(2);
    }
    hogs = Number(v);
  } else if (argv[i] === '--help' || argv[i] === '-h') {
    console.log('usage: node tools/stress.mjs [--hogs N] [test files or tap options ...]\n' +
      `  runs \`npm test\` (with CI=true) while N busy-loop processes keep cores busy (default ${Math.max(1, availableParallelism() - 1)}: one per core but one)`);
    process.exit(0);
  } else {
    passThrough.push(argv[i]);
  }
}

// A hog spins, and every ~10^7 iterations checks that its parent is still this process: if
// stress.mjs itself is killed (no chance to clean up), its hogs end on their own.
const HOG = `const p = ${process.pid}; for (;;) { for (let i = 0; i < 1e7; i++); if (process.ppid !== p) process.exit(0); }`;
const hogProcs = Array.from({ length: hogs }, () => spawn(process.execPath, ['-e', HOG], { stdio: 'ignore' }));
const stopHogs = () => { for (const h of hogProcs) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL'); };
process.on('exit', stopHogs);

console.log(`stress: ${hogs} busy-loop hog(s) (pids ${hogProcs.map((h) => h.pid).join(', ') || 'none'}) on ${availableParallelism()} CPUs; npm test ${passThrough.join(' ')}`.trimEnd());
const started = Date.now();
const suite = spawn('npm', ['test', ...(passThrough.length ? ['--', ...passThrough] : [])], {
  cwd: root, env: { ...process.env, CI: process.env.CI ?? 'true' }, stdio: ['inherit', 'pipe', 'inherit'],
});
// Ctrl-C or a kill reaches the suite through its process group; stop the hogs and pass the signal on.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { stopHogs(); suite.kill(sig); });
}
let resultLine = '';
let partial = '';
suite.stdout.on('data', (b) => {
  process.stdout.write(b);
  partial += b.toString('utf8');
  const lines = partial.split('\n');
  partial = lines.pop() ?? '';
  // tap's summary: "# { total: N, pass: N, fail: N, ... }".
  for (const l of lines) if (/^#\s*\{\s*total:/.test(l.trim())) resultLine = l.trim();
});
const code = await new Promise((resolve) => suite.on('close', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
stopHogs();
if (/^#\s*\{\s*total:/.test(partial.trim())) resultLine = partial.trim();
const wall = (Date.now() - started) / 1000;
const m = Math.floor(wall / 60);
console.log(`stress: ${resultLine || 'no tap summary line (see above)'}`);
console.log(`stress: npm test ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${m} min ${Math.round(wall - m * 60)} s with ${hogs} hog(s)`);
process.exitCode = code;
