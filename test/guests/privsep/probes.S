/*
 * probes.S: single instructions that may fault at CPL 3, for privsep.c. Each lies between
 * probes_start and probes_end and is followed by ret; the trap hook sends a faulting one to
 * probe_faulted, which returns PROBE_FAULTED instead (the return address is still on the stack).
 */
#define PROBE_FAULTED 0x6b6b6b6b6b6b6b6b
#define TRAP_PORT 0xe8                  /* PVKVM_HYPERCALL_TRAP_PORT */
#define HYPERVISOR_xen_version 17

	.text
	.code64
	.globl probes_start, probes_end, probe_read, probe_write, probe_raw_hypercall, probe_cli
	.globl probe_faulted
probes_start:
probe_read:                             /* uint64_t probe_read(const void *p) */
	movq (%rdi), %rax
	ret
probe_write:                            /* uint64_t probe_write(void *p, uint64_t v): 0 */
	movq %rsi, (%rdi)
	xorl %eax, %eax
	ret
probe_raw_hypercall:                    /* long: xen_version(XENVER_version) by the trap port */
	movl $HYPERVISOR_xen_version, %eax
	xorl %edi, %edi
	xorl %esi, %esi
	outb %al, $TRAP_PORT
	ret
probe_cli:                              /* uint64_t probe_cli(void): 0, the real instruction */
	cli
	xorl %eax, %eax
	ret
probes_end:

probe_faulted:
	movabsq $PROBE_FAULTED, %rax
	ret

	.section .note.GNU-stack, "", @progbits
