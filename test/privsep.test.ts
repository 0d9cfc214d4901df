// privsep.test.ts: domU-sdk guests run at CPL 3 above a small kernel by default (domU-sdk/README.md
// "Privilege levels"): user code cannot touch kernel pages or issue hypercalls itself, keeps
// running across timer and event interrupts, and the all-CPL-0 mode (sdk.mode=kernel) still works.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';

t.test('CPL 3 cannot touch kernel pages nor make hypercalls itself', kvmTest(), async (t) => {
  const r = await runGuest('privsep');
  const out = `${r.stdout}\n${r.stderr}`;
  t.equal(testResult(r.stdout), 'SUCCESS', out);
  t.match(r.stdout, /main at CPL 3; kernel-call gate: (int3|syscall)/);
  t.match(r.stdout, /read the hypercall page 0x[0-9a-f]+: page fault, error code 0x5/, 'a read faults as a user access');
  t.match(r.stdout, /write the hypercall page 0x[0-9a-f]+: page fault, error code 0x7/, 'a write faults as a user write');
  t.match(r.stdout, /port closed: fault \(vector 13\)/, 'the trap port is closed to CPL 3 by default');
  t.match(r.stdout, /port open: -1\b/, 'and opened, the hypervisor answers -EPERM');
  t.match(r.stdout, /kernel frames: ballooning and FIFO set-up refused/, 'reservation and FIFO set-up ops are checked frame by frame');
  t.match(r.stdout, /boot info rewritten by user code: the kernel's checks unchanged/,
    'the kernel checks against its own copy of the memory map (the hcfuzz seed-2 hang)');
  t.equal(r.code, 0);
});

t.test('a kernel-page fault without a hook is reported and crashes the domain', kvmTest(), async (t) => {
  const r = await runGuest('privsep', ['--cmdline', 'crash=1']);
  const out = `${r.stdout}\n${r.stderr}`;
  t.match(r.stdout, /unexpected exception 14 \(#PF page fault\) at CPL 3, error code 0x5/, out);
  t.match(r.stdout, /\(user code touched a kernel page\)/);
  t.notMatch(r.stdout, /still running after the fault/);
  t.equal(r.code, 13, 'SHUTDOWN_crash');
});

for (const mode of ['vector', 'callback']) {
  t.test(`CPL 3 keeps running across timer and event interrupts (upcall ${mode})`, kvmTest(), async (t) => {
    const r = await runGuest('uirq', ['--cmdline', `mode=${mode}`]);
    t.equal(testResult(r.stdout), 'SUCCESS', `${r.stdout}\n${r.stderr}`);
    t.match(r.stdout, /main at CPL 3/);
  });
}

// The all-CPL-0 mode, for tests of CPL-0 paths and as a comparison: the same guests, sdk.mode=kernel.
const KERNEL_MODE: [string, string][] = [
  ['uirq', 'mode=vector'],
  ['evtchn-upcall', 'mode=callback'],
  ['timer', 'mode=vector'],
  ['xenver', ''],
  ['grant-ops', ''],
];
for (const [name, args] of KERNEL_MODE) {
  t.test(`${name} with the SDK at CPL 0 (sdk.mode=kernel)`, kvmTest(), async (t) => {
    const r = await runGuest(name, ['--cmdline', `${args} sdk.mode=kernel`.trim()]);
    t.equal(testResult(r.stdout), 'SUCCESS', `${r.stdout}\n${r.stderr}`);
    t.equal(r.code, 0);
  });
}

t.test('hello at CPL 0 and at CPL 3 says the same', kvmTest(), async (t) => {
  const user = await runGuest('hello');
  const kernel = await runGuest('hello', ['--cmdline', 'sdk.mode=kernel']);
  t.equal(user.code, 0);
  t.equal(kernel.code, 0);
  t.match(user.stdout, /Hello from a pvkvm PVH guest!/);
  t.match(kernel.stdout, /Hello from a pvkvm PVH guest!/);
});
