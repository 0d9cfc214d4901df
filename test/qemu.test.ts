// qemu.test.ts: the domU-sdk's drivers for emulated PC devices checked against QEMU's device models
// (docs/performance.md §4): the ATA PIO disk behind <pvkvm/block.h> (blkwork, unchanged, falls back to it when
// there is no Xen; ataerr for the error paths) and the 16550 UART (console=uart, and the uartecho
// guest in polled and IRQ mode).
//
// QEMU boots the SDK's PVH ELF images with -kernel; the guests print on the emulated serial port
// (console=uart, -serial stdio) or the debug port (-debugcon stdio) and power off through
// isa-debug-exit (exit status 1 = poweroff). The first run uses KVM when QEMU can use it (on this
// project's hosts kvm_pvm makes a QEMU boot take seconds) and falls back to TCG; the others use TCG,
// which boots these guests in a fraction of a second (PVKVM_QEMU_ACCEL=kvm|tcg forces one for all).
// Without qemu-system-x86_64 the tests skip, except under CI=true, where they fail.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { MiB, image, imageDir, guestPattern, hostPattern } from './helpers/blk.ts';
import { kvmAvailable } from './helpers/kvm.ts';
import { guestPath, testResult } from './helpers/run-guest.ts';

const QEMU = process.env.PVKVM_QEMU ?? 'qemu-system-x86_64';
const CI = process.env.CI === 'true';
const FORCED_ACCEL = process.env.PVKVM_QEMU_ACCEL;
const RUN_LIMIT_MS = 25_000;
const POWEROFF = 1; // isa-debug-exit: (SHUTDOWN_poweroff << 1) | 1

const qemuMissing = spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status === 0
  ? null
  : `${QEMU} is not installed (Debian: qemu-system-x86)`;
if (CI && qemuMissing) t.fail(`${qemuMissing}; required under CI=true`);
const skip = qemuMissing ? (CI ? `${qemuMissing} (failed above)` : `${qemuMissing}; skipped outside CI`) : false;

interface QemuRun {
  readonly code: number | null;
  readonly out: string; // stdout with \r removed: the serial port or the debug console
  readonly stderr: string;
  readonly accel: string;
  readonly result: string | null;
}

interface QemuOptions {
  readonly guest: string;
  readonly cmdline: string;
  readonly disk?: string;
  /** 'serial': -serial stdio (the guest uses console=uart); 'debugcon': -debugcon stdio, no COM1. */
  readonly output: 'serial' | 'debugcon';
  readonly accel?: 'kvm' | 'tcg';
  /** Called with everything printed so far; may write to the serial port through `send`. */
  readonly onOutput?: (out: string, send: (s: string) => void) => void;
}

function qemuArgs(o: QemuOptions, accel: string): string[] {
  const args = [
    '-machine', 'pc', '-accel', accel, '-m', '64', '-display', 'none', '-monitor', 'none',
    '-no-reboot', '-nodefaults',
    '-kernel', guestPath(o.guest), '-append', o.cmdline,
    '-device', 'isa-debug-exit,iobase=0x501,iosize=4',
  ];
  if (o.disk) args.push('-drive', `file=${o.disk},format=raw,if=ide,index=0`);
  if (o.output === 'serial') args.push('-serial', 'stdio');
  else args.push('-serial', 'none', '-debugcon', 'stdio');
  return args;
}

function runOnce(o: QemuOptions, accel: string): Promise<QemuRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU, qemuArgs(o, accel), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    const send = (s: string): void => { child.stdin.write(s); };
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1').replace(/\r/g, '');
      o.onOutput?.(out, send);
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.on('error', () => { /* QEMU exited first */ });
    const killer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out, stderr, accel, result: testResult(out) });
    });
  });
}

/** The accelerator for the first run: KVM if QEMU can use it here, else TCG (found out once). */
let kvmUsable: boolean | undefined;

async function runQemu(o: QemuOptions): Promise<QemuRun> {
  const accel = FORCED_ACCEL ?? o.accel ?? 'tcg';
  if (accel !== 'kvm' || FORCED_ACCEL) return runOnce(o, accel);
  if (kvmUsable === undefined) kvmUsable = kvmAvailable();
  if (kvmUsable) {
    const r = await runOnce(o, 'kvm');
    // QEMU that cannot use KVM stops before the guest runs ("failed to initialize kvm", ...) or,
    // on a broken nested set-up, never gets the guest to print anything before the limit.
    if (r.out !== '' || (r.code !== null && !/kvm/i.test(r.stderr))) return r;
    kvmUsable = false;
    const why = r.code === null ? `no output in ${RUN_LIMIT_MS / 1000} s` : r.stderr.trim().split('\n')[0];
    t.comment(`QEMU cannot use KVM here (${why}); using TCG`);
  }
  return runOnce(o, 'tcg');
}

/** Extra diagnostics for an assertion: shown only when it fails. */
const diag = (r: QemuRun): { accel: string; exit: number | null; output: string } =>
  ({ accel: r.accel, exit: r.code, output: r.out + r.stderr });

/** The first offset where the file differs from `want`, or -1. */
function firstMismatch(file: string, bytes: number, want: (o: number) => number): number {
  const b = readFileSync(file);
  for (let o = 0; o < bytes; o++) if (b[o] !== want(o)) return o;
  return -1;
}

const { dir, cleanup } = imageDir();
t.teardown(cleanup);

t.test('the guests exist', { skip }, async (t) => {
  for (const g of ['blkwork', 'uartecho', 'ataerr']) t.ok(existsSync(guestPath(g)), `${guestPath(g)} (run node build.mjs)`);
});

t.test('blkwork verify-host over the ATA disk, output on the serial port (console=uart)', { skip }, async (t) => {
  const img = image(dir, 'host.img', MiB, hostPattern);
  const r = await runQemu({
    guest: 'blkwork', disk: img, output: 'serial', accel: 'kvm',
    cmdline: 'mode=verify-host size=256K bs=4096 console=uart',
  });
  t.comment(`accelerator: ${r.accel}`);
  t.equal(r.result, 'SUCCESS', 'Test result: SUCCESS', diag(r));
  t.equal(r.code, POWEROFF, 'powered off through isa-debug-exit', diag(r));
  t.match(r.out, /^ata: primary master "QEMU HARDDISK" .* 2048 sectors, lba48=1, multiple=16 /m, 'IDENTIFY and SET MULTIPLE');
  t.match(r.out, /^blkwork: disk 0 ata\/primary\/0: 2048 sectors of 512 bytes, ro=0/m, 'block_open_default chose ATA');
  t.match(r.out, /^blkwork: verify-host bytes=262144 bs=4096 qd=1 ok$/m);
  t.match(r.out, /^blkwork ata-stats .*cmd28=64 cmd48=0 multiple=64 irqs=0 .*errors=0 timeouts=0$/m, 'READ MULTIPLE, polled');
});

t.test('IRQ 14 mode: 48-bit READ MULTIPLE EXT through the PIC and the IOAPIC', { skip }, async (t) => {
  const img = image(dir, 'host2.img', MiB, hostPattern);
  for (const route of ['pic', 'ioapic']) {
    const r = await runQemu({
      guest: 'blkwork', disk: img, output: 'debugcon',
      cmdline: `mode=verify-host size=1M bs=262144 ata.mode=irq isa.irq=${route}`,
    });
    t.equal(r.result, 'SUCCESS', 'Test result: SUCCESS', diag(r));
    t.match(r.out, new RegExp(`mode=irq, irq route=${route}`), `routed through the ${route}`);
    // 4 requests of 512 sectors (> 256: the EXT commands), 16 sectors per DRQ block and interrupt.
    t.match(r.out, /^blkwork ata-stats .*cmd28=0 cmd48=4 multiple=4 irqs=128 .*errors=0 timeouts=0$/m, 'one interrupt per DRQ block', diag(r));
  }
});

t.test('guest writes land in the host file byte for byte', { skip }, async (t) => {
  // WRITE MULTIPLE EXT on IRQ 14 (128 DRQ blocks of 16 sectors, an interrupt after each, and one
  // for the flush), then WRITE SECTORS (28-bit, one sector per DRQ block) polled.
  const cases = [
    { name: 'irq.img', cmdline: 'mode=seqwrite size=1M bs=262144 ata.mode=irq', stats: /cmd28=0 cmd48=4 multiple=4 irqs=129 flushes=1 errors=0/ },
    { name: 'pio.img', cmdline: 'mode=seqwrite size=1M bs=4096 ata.multiple=0', stats: /cmd28=256 cmd48=0 multiple=0 irqs=0 flushes=1 errors=0/ },
  ];
  for (const c of cases) {
    const img = image(dir, c.name, 2 * MiB);
    const r = await runQemu({ guest: 'blkwork', disk: img, output: 'debugcon', cmdline: c.cmdline });
    t.equal(r.result, 'SUCCESS', 'Test result: SUCCESS', diag(r));
    t.match(r.out, /^blkwork: seqwrite bytes=1048576 /m);
    t.match(r.out, c.stats, `${c.cmdline}: ATA commands`, diag(r));
    t.equal(firstMismatch(img, MiB, (o) => guestPattern(o)), -1, `${c.name}: every byte of the first MiB`);
    t.ok(readFileSync(img).subarray(MiB).every((x) => x === 0), `${c.name}: nothing written past it`);
  }
});

t.test('random reads, writes and flushes on IRQ 14 read back what was written', { skip }, async (t) => {
  const img = image(dir, 'rand.img', MiB);
  const r = await runQemu({
    guest: 'blkwork', disk: img, output: 'debugcon',
    cmdline: 'mode=random size=1M bs=4096 qd=8 ops=200 seed=3 ata.mode=irq ata.multiple=4',
  });
  t.equal(r.result, 'SUCCESS', 'Test result: SUCCESS', diag(r));
  t.match(r.out, /^blkwork: random ops=200 .* ok$/m);
});

t.test('ATA errors are reported and the driver recovers; mode switches', { skip }, async (t) => {
  const img = image(dir, 'err.img', MiB, hostPattern);
  const r = await runQemu({ guest: 'ataerr', disk: img, output: 'debugcon', cmdline: '' });
  t.equal(r.result, 'SUCCESS', 'Test result: SUCCESS', diag(r));
  t.match(r.out, /^ata: command 0xc4 lba 2056 count 8 failed: status 0x41, error 0x4 \(ABRT\)$/m, 'READ MULTIPLE past the end: ABRT', diag(r));
  t.match(r.out, /^ataerr: write past the end: -5, error 0x4 \(ABRT\)$/m, 'WRITE MULTIPLE past the end: -XEN_EIO', diag(r));
  t.match(r.out, /^ataerr: interrupts for the two reads: 9$/m, 'IRQ 14 per DRQ block', diag(r));
  t.equal(firstMismatch(img, MiB, hostPattern), -1, 'the image is unchanged');
});

t.test('without a disk block_open reports no device', { skip }, async (t) => {
  const r = await runQemu({ guest: 'blkwork', output: 'debugcon', cmdline: 'mode=verify-host size=256K' });
  t.equal(r.result, 'FAILURE', 'Test result: FAILURE', diag(r));
  t.match(r.out, /^blkwork: cannot open disk 0: -19$/m, '-XEN_ENODEV');
});

t.test('the UART: console output and an echo, polled and on IRQ 4', { skip }, async (t) => {
  for (const mode of ['polled', 'irq']) {
    let sent = false;
    const r = await runQemu({
      guest: 'uartecho', output: 'serial', cmdline: `console=uart uart.mode=${mode} bulk=3000`,
      onOutput: (out, send) => {
        if (!sent && out.includes(`uartecho: ready mode=${mode}\n`)) {
          sent = true;
          send('ping from the host 42\n');
        }
      },
    });
    t.equal(r.result, 'SUCCESS', 'Test result: SUCCESS', diag(r));
    t.match(r.out, /^uartecho: got ping from the host 42$/m, `${mode}: the host's line came back`);
    let bulk = '';
    for (let i = 0; i < 3000; i++) bulk += String.fromCharCode(97 + ((i * 7 + 3) % 26));
    t.ok(r.out.includes(`uartecho: bulk ${bulk}\n`), `${mode}: 3000 bytes went out in order`);
    if (mode === 'irq') t.match(r.out, /^uartecho: irqs=[1-9]\d* rx_irq_bytes=\d+ tx_irq_bytes=\d+ rx_dropped=0 line_errors=0 route=pic$/m, 'IRQ 4 moved the bytes', diag(r));
  }
});

// A CPU that follows the architecture (TCG) makes the SDK's kernel pick `syscall` as its
// kernel-call gate; pvkvm's hosts never do (docs/host-kvm.md §3), so this is where that gate runs.
t.test('deprivileged guests under TCG: the syscall gate, and kernel pages closed to CPL 3', { skip }, async (t) => {
  const r = await runQemu({ guest: 'privsep', output: 'debugcon', cmdline: 'console=debugcon', accel: 'tcg' });
  t.match(r.out, /^main at CPL 3; kernel-call gate: syscall$/m, 'syscall enters CPL 0 here', diag(r));
  t.match(r.out, /^read the hypercall page 0x[0-9a-f]+: page fault, error code 0x5/m, 'a kernel page faults at CPL 3');
  t.match(r.out, /^read NULL 0: page fault, error code 0x5/m);
  t.equal(r.result, 'SKIP', 'no Xen: the hypercall checks are skipped', diag(r));
  t.equal(r.code, POWEROFF, 'powered off through isa-debug-exit (the syscall gate issued the kernel calls)', diag(r));
});
