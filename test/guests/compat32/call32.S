/*
 * call32.S: make a hypercall from 32-bit compatibility mode.
 *
 * long call32_hypercall(unsigned long stub, uint32_t a1, uint32_t a2, uint32_t a3)
 *
 * Far-calls (through a m16:32 pointer) into a 32-bit code segment (GDT selector 0x18: L=0, D=1),
 * which calls the hypercall stub with the 32-bit convention (EAX = nr set by the stub; args in
 * EBX, ECX, EDX, ESI, EDI) and far-returns. Returns EAX sign-extended. The stub, the code and the
 * stack all lie below 4 GiB.
 */
#define SEL_CODE32 0x18

	.text
	.code64
	.globl call32_hypercall
	.type call32_hypercall, @function
call32_hypercall:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rdi, %rbp                 /* stub address */
	movl %esi, %ebx                 /* arg 1 (SysV: RSI) */
	xchgl %ecx, %edx                /* arg 2 (SysV: RDX) to ECX, arg 3 (SysV: RCX) to EDX */
	movl $0x5a5a5a5a, %esi          /* args 4, 5: poison */
	movl $0x5a5a5a5a, %edi
	lcall *far_to_32(%rip)
	movslq %eax, %rax
	popq %r15                       /* upper halves of the GPRs are undefined after compat mode */
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.size call32_hypercall, . - call32_hypercall

	.code32
code32_entry:
	call *%ebp
	lret
	.code64

	.section .rodata
	.balign 8
far_to_32:
	.long code32_entry
	.word SEL_CODE32

	.section .note.GNU-stack, "", @progbits
