// guest-speed.mjs: what deprivileging buys a domU-sdk guest — guestspeed.elf's register loop and
// 4 KiB copy in the SDK's default mode ÷ the same code built for and run on the host
// (bench/c/guest-speed.c), and the prices of CPL 3: a null kernel call, a hypercall through the
// gate, one multicall of 8, an interrupt round trip. Then the same guest with sdk.mode=kernel
// (everything at CPL 0, emulated on kvm_pvm hosts), with small counts, for comparison.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, describeFailure, guestsDir, pvkvmJs, requireFile, round, runProcess } from './lib.mjs';

const TARGET_LOOP = 1.5;
/** The SDK's code-generation flags (domU-sdk/build-guests.mjs), minus the freestanding ones. */
const CFLAGS = ['-O2', '-mno-red-zone', '-mno-sse', '-mno-mmx', '-mno-sse2', '-fno-pie', '-no-pie', '-Wall', '-Wextra'];

function buildNative() {
  const out = join(benchDir, 'build');
  mkdirSync(out, { recursive: true });
  const bin = join(out, 'guest-speed');
  try {
    execFileSync('gcc', [...CFLAGS, '-o', bin, join(benchDir, 'c', 'guest-speed.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const detail = err.code === 'ENOENT' ? 'gcc not found' : String(err.stderr ?? err.message).trim().split('\n')[0];
    throw new Error(`cannot build bench/c/guest-speed.c: ${detail}`);
  }
  return bin;
}

function keyValues(stdout) {
  const kv = {};
  for (const m of stdout.matchAll(/^(\w+)=(\w+)$/gm)) kv[m[1]] = /^\d+$/.test(m[2]) ? Number(m[2]) : m[2];
  return kv;
}

async function runGuest(guest, cmdline, what) {
  const r = await runProcess(process.execPath, [pvkvmJs, 'run', guest, '--cmdline', cmdline, '--timeout', '240'], { timeoutMs: 300_000 });
  const kv = keyValues(r.stdout);
  if (r.code !== 0 || kv.loop_x1000 === undefined || kv.hypercall_cycles === undefined) throw new Error(describeFailure(what, r));
  return kv;
}

export async function run({ log }) {
  const guest = requireFile(join(guestsDir, 'guestspeed.elf'), 'run `node build.mjs` first');
  requireFile(pvkvmJs, 'run `node build.mjs` first');
  const native = buildNative();

  const nr = await runProcess(native, [], { timeoutMs: 120_000 });
  const host = keyValues(nr.stdout);
  if (nr.code !== 0 || !host.loop_x1000) throw new Error(describeFailure('host reference', nr));
  log(`host: ${host.loop_x1000 / 1000} cycles per loop iteration, ${host.memcpy_cycles} per 4 KiB copy`);

  const user = await runGuest(guest, '', 'guest, default mode');
  log(`guest (${user.mode}, gate ${user.gate}): ${user.loop_x1000 / 1000} per iteration, ${user.memcpy_cycles} per copy, ` +
    `kernel call ${user.kernel_call_cycles}, hypercall ${user.hypercall_cycles}, interrupt ${user.interrupt_cycles}`);

  // At CPL 0 every instruction is emulated here: a few thousand iterations are plenty.
  const kernel = await runGuest(guest, 'sdk.mode=kernel n=2000 copies=4 calls=50 spin_ms=300', 'guest, sdk.mode=kernel');
  log(`guest (kernel): ${kernel.loop_x1000 / 1000} per iteration, ${kernel.memcpy_cycles} per copy, hypercall ${kernel.hypercall_cycles}`);

  const loopRatio = user.loop_x1000 / host.loop_x1000;
  const copyRatio = user.memcpy_cycles / host.memcpy_cycles;
  const kernelLoopRatio = kernel.loop_x1000 / host.loop_x1000;
  return {
    summary: `loop_vs_native ${loopRatio.toFixed(2)} (target ≤ ${TARGET_LOOP}), memcpy_vs_native ${copyRatio.toFixed(2)} ` +
      `in mode ${user.mode} (gate ${user.gate}); kernel call ${user.kernel_call_cycles}, hypercall from user ` +
      `${user.hypercall_cycles}, interrupt ${user.interrupt_cycles} cycles; all at CPL 0: loop ×${Math.round(kernelLoopRatio)} of native, ` +
      `hypercall ${kernel.hypercall_cycles}`,
    mode: user.mode,
    gate: user.gate,
    loop_vs_native: round(loopRatio, 3),
    memcpy_vs_native: round(copyRatio, 3),
    kernel_call_cycles: user.kernel_call_cycles,
    hypercall_from_user_cycles: user.hypercall_cycles,
    interrupt_cycles: user.interrupt_cycles,
    target_loop_vs_native: TARGET_LOOP,
    multicall8_cycles: user.multicall8_cycles,
    interrupt_median_cycles: user.interrupt_median_cycles,
    interrupts_sampled: user.interrupts,
    tsc_khz: user.tsc_khz,
    native: { loop_cycles_per_iteration: host.loop_x1000 / 1000, memcpy_cycles: host.memcpy_cycles },
    guest: { loop_cycles_per_iteration: user.loop_x1000 / 1000, memcpy_cycles: user.memcpy_cycles },
    kernel_mode: {
      loop_vs_native: round(kernelLoopRatio, 1),
      memcpy_vs_native: round(kernel.memcpy_cycles / host.memcpy_cycles, 1),
      hypercall_cycles: kernel.hypercall_cycles,
      multicall8_cycles: kernel.multicall8_cycles,
      interrupt_cycles: kernel.interrupt_cycles,
    },
  };
}
