// layers.mjs: pvkvm's import graph by folder, checked against its floors — `node tools/layers.mjs`
// prints every folder-to-folder edge and any violation; exits 1 if there is one.
//
// Floors, lowest first; a folder imports only from floors below it (and from itself):
//   abi → host → hypervisor, dom0 → cli
//   inside hypervisor: kvm → memory, boot → state → events, grants, devices → time → hypercall
//   → vcpu → domain → daemon
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOP = { abi: 0, host: 1, hypervisor: 2, dom0: 2, cli: 3 };
const HYPERVISOR = {
  kvm: 0, memory: 1, boot: 1, state: 2, events: 3, grants: 3, devices: 3, time: 4, hypercall: 5, vcpu: 6,
  domain: 7, daemon: 8,
};
/** The public backend SDK may use only these (a backend author installs nothing else of ours). */
const SDK = 'dom0/backend-sdk';
const SDK_MAY_IMPORT = ['abi', 'host', SDK];

function sourceFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (/\.(ts|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

/** Every relative import of the floors' files: { from, to } as repository paths. */
export function imports(root = ROOT) {
  const edges = [];
  for (const top of Object.keys(TOP)) {
    let files;
    try { files = sourceFiles(join(root, top)); } catch { continue; }
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"\n;]*?(?:from\s*)?['"](\.[^'"]+)['"]/g)) {
        edges.push({ from: relative(root, f).split(sep).join('/'), to: relative(root, resolve(dirname(f), m[1])).split(sep).join('/') });
      }
      for (const m of src.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
        edges.push({ from: relative(root, f).split(sep).join('/'), to: relative(root, resolve(dirname(f), m[1])).split(sep).join('/') });
      }
    }
  }
  return edges;
}

/** The folder a file belongs to for the floor rules: `hypervisor/X` inside the hypervisor, else the top folder. */
function unit(path) {
  const parts = path.split('/');
  if (parts[0] === 'hypervisor' && parts.length > 2) return `hypervisor/${parts[1]}`;
  return parts[0];
}

function rank(u) {
  if (u.startsWith('hypervisor/')) return HYPERVISOR[u.slice('hypervisor/'.length)];
  return TOP[u];
}

/** Problems with the import graph, as readable lines (empty when the floors hold). */
export function violations(edges = imports()) {
  const out = [];
  for (const { from, to } of edges) {
    if (from.startsWith(`${SDK}/`) && !SDK_MAY_IMPORT.some((p) => to === p || to.startsWith(`${p}/`))) {
      out.push(`${from} imports ${to}: the backend SDK may import only ${SDK_MAY_IMPORT.join(', ')}`);
    }
    const a = unit(from);
    const b = unit(to);
    if (a === b) continue;
    const top = (u) => u.split('/')[0];
    if (top(a) !== top(b)) {
      if (TOP[top(b)] === undefined) out.push(`${from} imports ${to}, outside the floors`);
      else if (TOP[top(b)] >= TOP[top(a)]) out.push(`${from} imports ${to}: ${top(a)} may not import ${top(b)}`);
    } else if (top(a) === 'hypervisor') {
      const ra = rank(a);
      const rb = rank(b);
      if (ra === undefined || rb === undefined) out.push(`${from} imports ${to}: folder without a floor`);
      else if (rb >= ra) out.push(`${from} imports ${to}: ${a} may not import ${b}`);
    }
  }
  return out;
}

/** Folder-level edges with their counts, e.g. "hypervisor/vcpu -> hypervisor/hypercall (6)". */
export function folderGraph(edges = imports()) {
  const counts = new Map();
  for (const { from, to } of edges) {
    const a = unit(from);
    const b = unit(to);
    if (a !== b) counts.set(`${a} -> ${b}`, (counts.get(`${a} -> ${b}`) ?? 0) + 1);
  }
  return [...counts].sort(([x], [y]) => x.localeCompare(y)).map(([k, n]) => `${k} (${n})`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const edges = imports();
  for (const line of folderGraph(edges)) process.stdout.write(`${line}\n`);
  const bad = violations(edges);
  for (const line of bad) process.stdout.write(`VIOLATION: ${line}\n`);
  process.stdout.write(bad.length === 0 ? 'layers: every import goes down a floor\n' : `layers: ${bad.length} violation(s)\n`);
  process.exitCode = bad.length === 0 ? 0 : 1;
}
