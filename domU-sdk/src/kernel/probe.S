/*
 * probe.S: which kernel-call gate works here, tried once at boot (kmain.c).
 *
 * kprobe_syscall drops to CPL 3 (interrupts off) at pvkvm_gate_probe_user, which executes
 * `syscall` with LSTAR = kprobe_lstar:
 *   - on a normal host syscall enters CPL 0 at kprobe_lstar: the answer is 1;
 *   - on kvm_pvm hosts it jumps there still at CPL 3 and the fetch from a supervisor page faults;
 *     a #UD (syscall disabled) or any other fault does the same: trap.c sees kprobe_active and
 *     sends the vCPU to kprobe_trap_landed at CPL 0: the answer is 0.
 * Either way the boot stack is restored from kprobe_rsp. The trap frame lands on vCPU 0's kernel
 * stack (TSS RSP0), which is why kernel_main runs on a separate boot stack.
 */
#include "kernel_layout.h"

	.text
	.code64
	.globl kprobe_syscall
kprobe_syscall:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, kprobe_rsp(%rip)
	movl $1, kprobe_active(%rip)
	pushq $USEL_DATA
	pushq $(pvkvm_uboot_stack + UBOOT_STACK_SIZE)
	pushq $0x2                      /* IF = 0: nothing interrupts the probe */
	pushq $USEL_CODE64
	pushq $pvkvm_gate_probe_user
	iretq

	.globl kprobe_lstar
kprobe_lstar:
	movl $1, %eax
	jmp 1f
	.globl kprobe_trap_landed
kprobe_trap_landed:
	xorl %eax, %eax
1:	movq kprobe_rsp(%rip), %rsp
	movl $0, kprobe_active(%rip)
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.bss
	.balign 8
kprobe_rsp:
	.quad 0
	.globl kprobe_active
kprobe_active:
	.long 0

	.section .note.GNU-stack, "", @progbits
