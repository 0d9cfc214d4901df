/*
 * user.S: run a little code in ring 3 and come back.
 *
 * long run_user(void (*code)(void), void *user_stack)
 *   Enters `code` at CPL 3 (CS 0x2b, SS 0x23) with IOPL 3 (cpl3.c also grants the trap port in
 *   the TSS I/O bitmap), so the hypercall trap does not fault. The user code ends with ud2; the
 *   #UD hook in cpl3.c rewrites the trap frame to resume at run_user_resume at CPL 0, which
 *   returns the user's RAX.
 *
 * user_hypercall: the ring-3 code: xen_version(XENVER_version) through the hypercall page.
 */
#define SEL_USER_DATA (0x20 | 3)
#define SEL_USER_CODE64 (0x28 | 3)
#define RFLAGS_IOPL3 0x3000
#define RFLAGS_RESERVED 0x2

	.text
	.code64
	.globl run_user
	.type run_user, @function
run_user:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, kernel_rsp(%rip)
	pushq $SEL_USER_DATA            /* SS */
	pushq %rsi                      /* RSP */
	pushq $(RFLAGS_IOPL3 | RFLAGS_RESERVED)
	pushq $SEL_USER_CODE64          /* CS */
	pushq %rdi                      /* RIP */
	iretq

	.globl run_user_resume
run_user_resume:                    /* entered at CPL 0 by the trap hook, RAX = result */
	movq kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.size run_user, . - run_user

	.globl user_hypercall
	.type user_hypercall, @function
user_hypercall:
	movq user_stub(%rip), %rbx
	xorl %edi, %edi                 /* XENVER_version */
	xorl %esi, %esi
	call *%rbx
	ud2
	.size user_hypercall, . - user_hypercall

	.globl user_probe
	.type user_probe, @function
user_probe:                         /* proves ring 3 runs: returns 0x1234 without a hypercall */
	movl $0x1234, %eax
	ud2
	.size user_probe, . - user_probe

	.data
	.balign 8
	.globl user_stub
user_stub:
	.quad 0
kernel_rsp:
	.quad 0

	.section .note.GNU-stack, "", @progbits
