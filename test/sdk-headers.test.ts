// sdk-headers.test.ts: <pvkvm/pvkvm.h> really is the whole guest SDK — it includes every header
// under domU-sdk/include/pvkvm/ — and each of those headers compiles on its own.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const INCLUDE = fileURLToPath(new URL('../domU-sdk/include/', import.meta.url));
const PUBLIC = readdirSync(`${INCLUDE}pvkvm`).filter((f) => f.endsWith('.h')).sort();

t.test('pvkvm.h includes every public header', async (t) => {
  const umbrella = readFileSync(`${INCLUDE}pvkvm/pvkvm.h`, 'utf8');
  const included = new Set([...umbrella.matchAll(/#include <pvkvm\/([\w.-]+)>/g)].map((m) => m[1]));
  for (const h of PUBLIC.filter((h) => h !== 'pvkvm.h')) t.ok(included.has(h), `<pvkvm/${h}>`);
});

t.test('each public header compiles on its own', async (t) => {
  for (const h of PUBLIC) {
    const r = spawnSync('gcc', [
      '-std=gnu11', '-ffreestanding', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter',
      '-mno-red-zone', '-mno-sse', '-mno-mmx', '-I', INCLUDE, '-x', 'c', '-',
    ], { input: `#include <pvkvm/${h}>\n`, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (r.error) throw r.error;
    t.equal(r.status, 0, `<pvkvm/${h}>${r.stderr ? `\n${r.stderr}` : ''}`);
  }
});
