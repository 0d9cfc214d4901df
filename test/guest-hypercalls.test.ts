// guest-hypercalls.test.ts: one C guest per hypercall behaviour, each must report SUCCESS; and a
// hypercall from ring 3 (cpl3) must fail.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';

/** Guest name → extra `pvkvm run` arguments (besides those in the guest's guest.json). */
const GUESTS: Record<string, string[]> = {
  efault: [],
  enosys: [],
  xenver: [],
  multicall: [],
  hvmparam: [],
  debugcon: [],
  compat32: [],
  memmap: [], // guest.json: --memory 96 --cmdline mem=96
};

for (const [name, args] of Object.entries(GUESTS)) {
  t.test(`guest ${name}`, kvmTest(), async (t) => {
    const r = await runGuest(name, args);
    t.equal(testResult(r.stdout), 'SUCCESS', `${name} reports SUCCESS\n${r.stdout}\n${r.stderr}`);
    t.equal(r.code, 0, 'the guest powered off');
  });
}

t.test('the largest guest: events and grants with shared pages beyond 3 GiB of RAM', kvmTest(), async (t) => {
  for (const guest of ['evtchn-upcall', 'grant-ops']) {
    const r = await runGuest(guest, ['--memory', '3072']);
    t.equal(testResult(r.stdout), 'SUCCESS', `${guest} with 3072 MiB\n${r.stdout}${r.stderr}`);
  }
});

t.test('memory map follows --memory', kvmTest(), async (t) => {
  // 4 MiB is about the least an SDK guest fits in: its kernel has the first 2 MiB page to itself
  // and the rest of the image starts at 2 MiB (domU-sdk/link.ld). 2048 and up: byte offsets in
  // the guest memory file pass 2^31 (int32 arithmetic would break).
  for (const mib of [4, 17, 256, 2048, 3072]) {
    const r = await runGuest('memmap', ['--memory', String(mib), '--cmdline', `mem=${mib}`]);
    t.equal(testResult(r.stdout), 'SUCCESS', `memmap with ${mib} MiB\n${r.stdout}`);
  }
  // A guest told the wrong size must notice: the check is real.
  const wrong = await runGuest('memmap', ['--memory', '32', '--cmdline', 'mem=64']);
  t.equal(testResult(wrong.stdout), 'FAILURE', 'a mismatched size is detected');
});

t.test('a hypercall from ring 3 fails with EPERM, and ring 0 still works', kvmTest(), async (t) => {
  const r = await runGuest('cpl3');
  const out = `${r.stdout}\n${r.stderr}`;
  t.match(r.stdout, /ring 3 probe returned 0x1234/, `ring 3 ran and came back\n${out}`);
  if (testResult(r.stdout) === 'SKIP') {
    // A CPU that raises #GP on the trap port in ring 3 never lets ring 3 reach the hypervisor.
    t.match(r.stdout, /raises #GP in ring 3/, out);
    t.comment('skipped: this host raises #GP on the hypercall trap in ring 3');
    return;
  }
  t.equal(testResult(r.stdout), 'SUCCESS', out);
  t.match(r.stdout, /xen_version from ring 3 returned -1\n/, '-XEN_EPERM');
  t.equal(r.code, 0, 'the guest powered off');
});

t.test('the hello guest greets and powers off', kvmTest(), async (t) => {
  const r = await runGuest('hello');
  t.match(r.stdout, /Hello from a pvkvm PVH guest!/);
  t.match(r.stdout, /Xen version 4\.17/);
  t.equal(r.code, 0);
});
