// guest-hypercalls.test.ts: one C guest per hypercall behaviour, each must report SUCCESS.
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';

/** Guest name → extra `pvkvm run` arguments. */
const GUESTS: Record<string, string[]> = {
  efault: [],
  enosys: [],
  xenver: [],
  multicall: [],
  hvmparam: [],
  debugcon: [],
  compat32: [],
  memmap: ['--memory', '96', '--cmdline', 'mem=96'],
};

for (const [name, args] of Object.entries(GUESTS)) {
  t.test(`guest ${name}`, kvmTest(), async (t) => {
    const r = await runGuest(name, args);
    t.equal(testResult(r.stdout), 'SUCCESS', `${name} reports SUCCESS\n${r.stdout}\n${r.stderr}`);
    t.equal(r.code, 0, 'the guest powered off');
  });
}

t.test('memory map follows --memory', kvmTest(), async (t) => {
  for (const mib of [2, 17, 256]) {
    const r = await runGuest('memmap', ['--memory', String(mib), '--cmdline', `mem=${mib}`]);
    t.equal(testResult(r.stdout), 'SUCCESS', `memmap with ${mib} MiB\n${r.stdout}`);
  }
  // A guest told the wrong size must notice: the check is real.
  const wrong = await runGuest('memmap', ['--memory', '32', '--cmdline', 'mem=64']);
  t.equal(testResult(wrong.stdout), 'FAILURE', 'a mismatched size is detected');
});

t.test('the hello guest greets and powers off', kvmTest(), async (t) => {
  const r = await runGuest('hello');
  t.match(r.stdout, /Hello from a pvkvm PVH guest!/);
  t.match(r.stdout, /Xen version 4\.17/);
  t.equal(r.code, 0);
});
