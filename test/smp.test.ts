// smp.test.ts: a 2-vCPU guest brings up its second vCPU (VCPUOP_initialise/up/down), exchanges
// IPIs both ways and keeps per-vCPU time and timers; with one vCPU the guest skips; VCPUOP_down/up
// as Xen answers them (vcpuops).
import t from 'tap';
import { kvmTest } from './helpers/kvm.ts';
import { runGuest, testResult } from './helpers/run-guest.ts';

t.test('two vCPUs: bring-up, IPIs, per-vCPU time', kvmTest(), async (t) => {
  const r = await runGuest('smp'); // guest.json: --vcpus 2 --cmdline mode=vector
  t.equal(testResult(r.stdout), 'SUCCESS', `${r.stdout}\n${r.stderr}`);
  t.match(r.stdout, /the SDK runs at CPL 3/);
  t.equal(r.code, 0);
});

t.test('two vCPUs with the SDK at CPL 0 (sdk.mode=kernel)', kvmTest(), async (t) => {
  const r = await runGuest('smp', ['--cmdline', 'mode=vector sdk.mode=kernel']);
  t.equal(testResult(r.stdout), 'SUCCESS', `${r.stdout}\n${r.stderr}`);
  t.match(r.stdout, /the SDK runs at CPL 0/);
});

t.test('four vCPUs', kvmTest(), async (t) => {
  const r = await runGuest('smp', ['--vcpus', '4', '--cmdline', 'mode=vector n=200']);
  t.equal(testResult(r.stdout), 'SUCCESS', `${r.stdout}\n${r.stderr}`);
});

t.test('one vCPU: the guest skips', kvmTest(), async (t) => {
  const r = await runGuest('smp', ['--vcpus', '1']);
  t.equal(testResult(r.stdout), 'SKIP');
});

t.test('VCPUOP_initialise with a 32-bit context starts a vCPU in protected mode', kvmTest(), async (t) => {
  const r = await runGuest('smp32'); // guest.json: --vcpus 3
  t.equal(testResult(r.stdout), 'SUCCESS', r.stdout + r.stderr);
  t.match(r.stdout, /vCPU 1 ran 32-bit code: esi=0x5a5a1234/);
});

t.test('VCPUOP_down/up/is_up as Xen: a vCPU downed in SCHEDOP_poll stays down; the last vCPU down powers off', kvmTest(), async (t) => {
  const r = await runGuest('vcpuops'); // guest.json: --vcpus 2
  t.equal(testResult(r.stdout), 'SUCCESS', `${r.stdout}\n${r.stderr}`);
  t.match(r.stdout, /vCPU 1 downed in SCHEDOP_poll, resumed by VCPUOP_up/);
  t.match(r.stdout, /vCPU 0 goes down last/);
  t.notMatch(r.stdout, /VCPUOP_down of the last vCPU returned/);
  t.equal(r.code, 0, 'powered off');
  t.match(r.stderr, /shut down: poweroff/);
});
