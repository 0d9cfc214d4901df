// layers.test.ts: the tree's floors hold — every import goes down a floor (tools/layers.mjs), libc
// is bound once, and the checker itself catches an upward import.
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/run-guest.ts';
// @ts-expect-error: a plain .mjs tool without type declarations
import { imports, violations } from '../tools/layers.mjs';

type Edge = { from: string; to: string };
const check = violations as (edges?: Edge[]) => string[];
const edges = (imports as () => Edge[])();

t.test('every import goes down a floor', async (t) => {
  t.ok(edges.length > 300, `the checker saw the tree's imports (${edges.length})`);
  t.same(check(edges), [], 'no violations');
  t.same(edges.filter((e) => e.from.startsWith('dom0/') && e.to.startsWith('hypervisor/')), [], 'dom0 imports nothing from hypervisor/');
  t.same(edges.filter((e) => e.from.startsWith('hypervisor/') && (e.to.startsWith('dom0/') || e.to.startsWith('cli/'))), [],
    'hypervisor/ imports nothing from dom0/ or cli/');
});

t.test('the checker refuses what the floors forbid', async (t) => {
  t.match(check([{ from: 'dom0/blkback/disk.ts', to: 'hypervisor/kvm/vm.ts' }]), [/dom0 may not import hypervisor/]);
  t.match(check([{ from: 'hypervisor/grants/map.ts', to: 'hypervisor/hypercall/context.ts' }]), [/grants may not import hypervisor\/hypercall/]);
  t.match(check([{ from: 'hypervisor/events/raise.ts', to: 'hypervisor/grants/map.ts' }]), [/events may not import hypervisor\/grants/]);
  t.match(check([{ from: 'host/libc.ts', to: 'dom0/dom0d.ts' }]), [/host may not import dom0/]);
  t.match(check([{ from: 'dom0/backend-sdk/device.ts', to: 'dom0/xenstore/store.ts' }]), [/backend SDK may import only/]);
  t.same(check([{ from: 'cli/main.ts', to: 'hypervisor/daemon/hypervisord.ts' }]), []);
});

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

t.test('libc is bound by koffi in one file', async (t) => {
  const needle = ['koffi', "load('libc"].join('.'); // spelled apart so this file does not match
  const binders = tsFiles(ROOT).filter((f) => readFileSync(f, 'utf8').includes(needle)).map((f) => f.slice(ROOT.length + 1));
  t.same(binders, ['host/libc.ts']);
});
