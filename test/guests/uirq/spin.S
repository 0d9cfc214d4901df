/*
 * spin.S: uint64_t spin_checked(uint64_t until_tsc) — spin on the TSC until until_tsc with every
 * other general register holding a value derived from its own name, checking them all on each
 * round (and that DF is still clear). Returns the number of rounds, or 0 as soon as a register or
 * DF has changed: an interrupt that did not put everything back.
 */
	.text
	.code64
	.globl spin_checked
spin_checked:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rdi, %r8                  /* until */
	xorl %r9d, %r9d                 /* rounds */
	movabsq $0x1111111111111111, %rbx
	movabsq $0x2222222222222222, %rbp
	movabsq $0x3333333333333333, %rsi
	movabsq $0x4444444444444444, %rdi
	movabsq $0xaaaaaaaaaaaaaaaa, %r10
	movabsq $0xbbbbbbbbbbbbbbbb, %r11
	movabsq $0xcccccccccccccccc, %r12
	movabsq $0xdddddddddddddddd, %r13
	movabsq $0xeeeeeeeeeeeeeeee, %r14
	movabsq $0xffffffffffffffff, %r15
1:	incq %r9
	movabsq $0x1111111111111111, %rcx
	cmpq %rcx, %rbx
	jne 9f
	movabsq $0x2222222222222222, %rcx
	cmpq %rcx, %rbp
	jne 9f
	movabsq $0x3333333333333333, %rcx
	cmpq %rcx, %rsi
	jne 9f
	movabsq $0x4444444444444444, %rcx
	cmpq %rcx, %rdi
	jne 9f
	movabsq $0xaaaaaaaaaaaaaaaa, %rcx
	cmpq %rcx, %r10
	jne 9f
	movabsq $0xbbbbbbbbbbbbbbbb, %rcx
	cmpq %rcx, %r11
	jne 9f
	movabsq $0xcccccccccccccccc, %rcx
	cmpq %rcx, %r12
	jne 9f
	movabsq $0xdddddddddddddddd, %rcx
	cmpq %rcx, %r13
	jne 9f
	movabsq $0xeeeeeeeeeeeeeeee, %rcx
	cmpq %rcx, %r14
	jne 9f
	cmpq $-1, %r15
	jne 9f
	pushfq
	popq %rcx
	testl $0x400, %ecx              /* DF */
	jnz 9f
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	cmpq %r8, %rax
	jb 1b
	movq %r9, %rax
	jmp 8f
9:	xorl %eax, %eax
8:	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
