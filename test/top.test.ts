// top.test.ts: `pvkvm top` in batch mode (CPU%, memory, vCPUs, exits/s, disks), its argument
// errors, info's live hypercall counts, and pauses that nest as Xen's pause count.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvmTest } from './helpers/kvm.ts';
import { startDaemons, eventually } from './helpers/daemons.ts';
import { pvkvm } from './helpers/run-guest.ts';
import { renderFrame } from '../cli/commands/top.ts';

t.test('top: help, bad arguments are one line', async (t) => {
  const h = await pvkvm(['top', '--help']);
  t.equal(h.code, 0);
  t.match(h.stdout, /^Usage: pvkvm top /);
  for (const args of [['-d', '0'], ['-d', 'abc'], ['-i', '0'], ['-i', '-3'], ['extra']]) {
    const r = await pvkvm(['top', ...args]);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, /^pvkvm: top: [^\n]+\n$/, args.join(' '));
  }
});

t.test('top: a hostile sample renders as dashes, never throws', async (t) => {
  const frame = renderFrame({ atMs: 0, rows: [] }, { atMs: 1000, rows: [{ domid: 'x', name: { a: 1 }, cpu_time_s: 'NaN', vbd: null, net: 5 }] }, new Date(0));
  t.match(frame, /^pvkvm top - /);
  t.equal(frame.trimEnd().split('\n').length, 3);
});

t.test('top -b, info hypercalls, nested pause', kvmTest(), async (t) => {
  const d = await startDaemons();
  t.teardown(() => d.down());
  const img = join(d.runDir, 'disk.img');
  writeFileSync(img, Buffer.alloc(64 * 1024));
  const cfg = join(d.runDir, 'spin.cfg');
  writeFileSync(cfg, `name = "spinner"\nkernel = "${join(import.meta.dirname, '..', 'dist', 'guests', 'spin.elf')}"\n` +
    `memory = 32\nmaxmem = 40\nvcpus = 2\ncmdline = "mode=busy"\ndisk = [ '${img},raw,xvda,rw' ]\n`);
  t.equal((await d.cli(['create', cfg])).code, 0);

  // Wait until the busy guest has used some CPU, so a frame shows a CPU% above zero.
  await eventually(async () => {
    const j = JSON.parse((await d.cli(['list', '--json'])).stdout) as Array<{ cpu_time_s: number }>;
    return j[0]!.cpu_time_s > 0 ? true : undefined;
  }, 30_000);
  const r = await d.cli(['top', '-b', '-i', '2', '-d', '0.5']);
  t.equal(r.code, 0, r.stderr);
  const frames = r.stdout.split('\n\n').filter((f) => f.trim() !== '');
  t.equal(frames.length, 2, 'two frames');
  for (const f of frames) {
    const lines = f.trimEnd().split('\n');
    t.match(lines[0], /^pvkvm top - \d\d:\d\d:\d\d\s+2 domains: 2 running, 0 paused, 0 other$/);
    t.match(lines[1], /^NAME\s+ID\s+STATE\s+CPU\(sec\)\s+CPU\(%\)\s+MEM\(MiB\)\s+MAXMEM\s+VCPUS\s+EXITS\/s\s+NETS\s+NETTX\(k\)\s+NETRX\(k\)\s+VBDS\s+VBD_RD\s+VBD_WR\s+VBD_RSECT\s+VBD_WSECT\s+VBD_ERR$/);
    t.match(lines[2], /^Domain-0\s+0\s+running\s/);
    const cells = lines[3]!.split(/\s+/);
    t.equal(cells[0], 'spinner');
    t.equal(cells[2], 'running');
    t.ok(Number(cells[4]) > 0, `CPU% ${cells[4]} (a busy vCPU)`);
    t.equal(cells[5], '32', 'memory');
    t.equal(cells[6], '40', 'maxmem');
    t.equal(cells[7], '1', 'vCPUs up, as xentop counts them (spin never brings its second one up)');
    t.ok(Number.isFinite(Number(cells[8])), `exits/s ${cells[8]}`);
    t.equal(cells[9], '0', 'no vifs');
    t.equal(cells[12], '1', 'one disk');
  }

  const info = JSON.parse((await d.cli(['info', 'spinner'])).stdout) as { hypercalls: Record<string, number>; pause_count: number };
  t.ok(Object.keys(info.hypercalls).length > 0, `live hypercall counts: ${JSON.stringify(info.hypercalls)}`);
  t.equal(info.pause_count, 0);

  const state = async (): Promise<string> => (JSON.parse((await d.cli(['list', '--json'])).stdout) as Array<{ state: string }>)[0]!.state;
  t.equal((await d.cli(['pause', 'spinner'])).code, 0);
  t.equal((await d.cli(['pause', 'spinner'])).code, 0);
  t.equal(await state(), 'paused');
  t.equal((await d.cli(['unpause', 'spinner'])).code, 0);
  t.equal(await state(), 'paused', 'still paused after one of two unpauses');
  const paused = await d.cli(['top', '-b', '-i', '1', '-d', '0.2']);
  t.match(paused.stdout, /1 running, 1 paused/);
  t.equal((await d.cli(['unpause', 'spinner'])).code, 0);
  t.equal(await state(), 'running', 'running after the second');
  const extra = await d.cli(['unpause', 'spinner']);
  t.equal(extra.code, 1);
  t.match(extra.stderr, /^pvkvm: domain \d+ \(spinner\) is not paused\n$/);
});
