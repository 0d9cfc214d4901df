/*
 * isa_irq.S: interrupt entry stubs for the ISA IRQ vectors 0x20..0x2F and the isa_idle() tick
 * (0x30), see <pvkvm/isa.h>.
 *
 * Each stub pushes its vector and joins isa_irq_common, which saves every general register,
 * aligns the stack, calls isa_irq_dispatch(vector) (src/isa.c: handler, then EOI), restores and
 * returns with iretq. The gates are interrupt gates, so IF stays clear throughout.
 */
	.text
	.code64

.macro ISA_STUB vec
	.balign 16
isa_stub_\vec:
	pushq $\vec
	jmp isa_irq_common
.endm

	.irp vec, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48
	ISA_STUB \vec
	.endr

isa_irq_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq 15*8(%rsp), %rdi           /* the vector the stub pushed */
	movq %rsp, %rbx                 /* callee-saved: where the registers are */
	andq $-16, %rsp
	call isa_irq_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $8, %rsp                   /* the vector */
	iretq

	.section .rodata
	.balign 8
	.globl isa_irq_stubs
isa_irq_stubs:                          /* vectors 0x20..0x30, in order */
	.irp vec, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48
	.quad isa_stub_\vec
	.endr

	.section .note.GNU-stack, "", @progbits
