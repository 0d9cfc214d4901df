// netfront-rings.test.ts: netfront's data path (domU-sdk/src/drivers/netfront/tx.c, rx.c)
// compiled for the host under AddressSanitizer, with a C harness playing the backend on the
// shared rings (test/fixtures/netfront/harness.c): TX slots, chains with NETTXF_more_data, batched
// pushes and event suppression, ids reclaimed and reused, a full ring; RX frames, chains,
// extra-info slots, refills in batches; and a hostile backend — impossible indices, ids not in
// flight, bad offsets/sizes/statuses, endless chains, random responses — which never makes the
// frontend read outside its pages or hang.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK = fileURLToPath(new URL('../domU-sdk/', import.meta.url));
const HARNESS = fileURLToPath(new URL('./fixtures/netfront/harness.c', import.meta.url));
const NETFRONT = join(SDK, 'src/drivers/netfront');

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 16 << 20 });
  if (r.error) throw r.error;
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'netfront-rings-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const exe = join(dir, 'harness');

t.test('the data path builds for the host with the sanitizers', async (t) => {
  const r = run('gcc', ['-std=gnu11', '-O1', '-g', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Werror',
    '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer',
    '-I', join(SDK, 'include'), '-I', NETFRONT, '-o', exe, HARNESS, join(NETFRONT, 'tx.c'), join(NETFRONT, 'rx.c')]);
  t.equal(r.status, 0, r.stderr);
});

t.test('TX and RX against a correct and a hostile backend', async (t) => {
  const r = run(exe, []);
  t.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  t.notMatch(r.stderr, /AddressSanitizer|runtime error/, 'no out-of-bounds access or undefined behaviour');
  t.notMatch(r.stdout, /^FAIL/m, 'every check in the harness');
  t.match(r.stdout, /^DONE failures=0$/m);
});
