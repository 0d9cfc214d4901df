/*
 * trap_entry.S: entry stubs for the 32 CPU exception vectors. Each stub makes the frame uniform
 * (a zero error code where the CPU pushes none), pushes its vector and the general registers,
 * and calls ktrap(struct pvkvm_trap_frame *) in trap.c. If that returns, the registers are
 * restored from the (possibly edited) frame and iretq resumes what the frame says: the interrupted
 * code, or for a fault at CPL 3 that a user hook will handle, the user trap trampoline.
 */
#include "../arch/gpr-frame.inc"

	.text
	.code64

.macro TRAP_STUB vec
	.balign 16
trap_stub_\vec:
	.if !((\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30))
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
.endm

	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	TRAP_STUB \vec
	.endr

	.globl trap_common
trap_common:
	SAVE_GPRS
	movq %rsp, %rdi                 /* the frame */
	CALL_ALIGNED ktrap
	RESTORE_GPRS
	addq $16, %rsp                  /* vector and error code */
	iretq

	.section .rodata
	.balign 8
	.globl pvkvm_trap_stubs
pvkvm_trap_stubs:
	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap_stub_\vec
	.endr

	.section .note.GNU-stack, "", @progbits
