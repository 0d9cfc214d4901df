// kvm-abi.test.ts: our KVM ioctl numbers and kvm_run offsets agree with the host's linux/kvm.h.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KVM, KVM_CAP, KVM_EXIT, KVM_STRUCT_SIZE, KVM_INTERNAL_ERROR, KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES,
} from '../hypervisor/kvm/ioctls.ts';
import {
  RUN, EXIT_IO, EXIT_MMIO, EXIT_MSR, EXIT_INTERNAL, EXIT_EMULATION_FAILURE, EMULATION_FAILURE_MAX_INSN, SREGS, SEG,
  VCPU_EVENTS,
} from '../hypervisor/kvm/run-layout.ts';

const header = '/usr/include/linux/kvm.h';

t.test('ioctl numbers and struct offsets', { skip: existsSync(header) ? false : 'linux/kvm.h not installed' }, async (t) => {
  const checks: Array<[string, string, number]> = [];
  for (const [k, v] of Object.entries(KVM)) {
    const name = k === 'X86_SET_MSR_FILTER' ? 'KVM_X86_SET_MSR_FILTER' : `KVM_${k}`;
    checks.push([name, name, v]);
  }
  for (const [k, v] of Object.entries(KVM_CAP)) checks.push([`KVM_CAP_${k}`, `KVM_CAP_${k}`, v]);
  for (const [k, v] of Object.entries(KVM_EXIT)) checks.push([`KVM_EXIT_${k}`, `KVM_EXIT_${k}`, v]);
  for (const [k, v] of Object.entries(KVM_STRUCT_SIZE)) checks.push([`sizeof ${k}`, `sizeof(struct ${k})`, v]);
  const off = (s: string, f: string) => `__builtin_offsetof(struct ${s}, ${f})`;
  for (const [k, v] of Object.entries(RUN)) if (k !== 'exit' && k !== 'sync_regs') checks.push([`kvm_run.${k}`, off('kvm_run', k), v]);
  checks.push(['kvm_run.io', off('kvm_run', 'io'), RUN.exit], ['kvm_run.s', off('kvm_run', 's'), RUN.sync_regs]);
  for (const [k, v] of Object.entries(EXIT_IO)) checks.push([`io.${k}`, off('kvm_run', `io.${k}`), RUN.exit + v]);
  for (const [k, v] of Object.entries(EXIT_MMIO)) checks.push([`mmio.${k}`, off('kvm_run', `mmio.${k}`), RUN.exit + v]);
  for (const [k, v] of Object.entries(EXIT_MSR)) checks.push([`msr.${k}`, off('kvm_run', `msr.${k}`), RUN.exit + v]);
  for (const [k, v] of Object.entries(EXIT_INTERNAL)) checks.push([`internal.${k}`, off('kvm_run', `internal.${k}`), RUN.exit + v]);
  for (const [k, v] of Object.entries(EXIT_EMULATION_FAILURE)) {
    checks.push([`emulation_failure.${k}`, off('kvm_run', `emulation_failure.${k}`), RUN.exit + v]);
  }
  checks.push(['sizeof emulation_failure.insn_bytes', 'sizeof(((struct kvm_run *)0)->emulation_failure.insn_bytes)', EMULATION_FAILURE_MAX_INSN]);
  for (const [k, v] of Object.entries(KVM_INTERNAL_ERROR)) checks.push([`KVM_INTERNAL_ERROR_${k}`, `KVM_INTERNAL_ERROR_${k}`, v]);
  checks.push([
    'KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES', 'KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES',
    Number(KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES),
  ]);
  for (const [k, v] of Object.entries(VCPU_EVENTS)) {
    // exception_injected → exception.injected, flags → flags; size is the struct's.
    const field = k === 'size' ? null : k.replace(/^(exception|interrupt)_/, '$1.');
    checks.push([`kvm_vcpu_events.${k}`, field === null ? 'sizeof(struct kvm_vcpu_events)' : off('kvm_vcpu_events', field), v]);
  }
  for (const [k, v] of Object.entries(SREGS)) if (k !== 'size') checks.push([`sregs.${k}`, off('kvm_sregs', k), v]);
  for (const [k, v] of Object.entries(SEG)) if (k !== 'size') checks.push([`segment.${k}`, off('kvm_segment', k), v]);
  // Constants newer than some hosts' headers (Debian 12 ships Linux 6.1's): compared where defined.
  const newer = new Set(['KVM_EXIT_MEMORY_FAULT']);
  const src = [
    '#include <stdio.h>', '#include <linux/kvm.h>', 'int main(void) {',
    ...checks.map(([, expr]) => (newer.has(expr)
      ? `#ifdef ${expr}\n  printf("%llu\\n", (unsigned long long)(${expr}));\n#else\n  printf("absent\\n");\n#endif`
      : `  printf("%llu\\n", (unsigned long long)(${expr}));`)),
    '  return 0; }',
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-kvmabi-'));
  writeFileSync(join(dir, 'probe.c'), src);
  execFileSync('gcc', ['-o', join(dir, 'probe'), join(dir, 'probe.c')]);
  const values = execFileSync(join(dir, 'probe')).toString().trim().split('\n');
  checks.forEach(([label], i) => {
    if (values[i] === 'absent') t.comment(`${label}: not in this host's ${header} (newer kernels define it); not compared`);
    else t.equal(checks[i]![2], Number(values[i]), label);
  });
});
