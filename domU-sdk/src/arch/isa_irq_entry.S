/*
 * isa_irq_entry.S: interrupt entry stubs for the ISA IRQ vectors 0x20..0x2F and the isa_idle()
 * tick (0x30), see <pvkvm/isa.h>.
 *
 * Each stub pushes its vector and joins isa_irq_common, which saves every general register,
 * aligns the stack, calls isa_irq_dispatch(vector) (isa.c: handler, then EOI), restores and
 * returns with iretq. The gates are interrupt gates, so IF stays clear throughout.
 */
#include "gpr-frame.inc"

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
	SAVE_GPRS
	movq 15*8(%rsp), %rdi           /* the vector the stub pushed */
	CALL_ALIGNED isa_irq_dispatch
	RESTORE_GPRS
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
