/*
 * evtchn_fifo_entry.S: the upcall interrupt entry of FIFO guests (<pvkvm/evtchn_fifo.h>): save the
 * registers, call evtchn_fifo_upcall_interrupt() (EOI, then the FIFO consume loop), iretq. An
 * interrupt gate, so IF stays clear and upcalls never nest.
 */
#include "../arch/gpr-frame.inc"

	.text
	.code64

	.balign 16
	.globl pvkvm_fifo_upcall_entry
	.type pvkvm_fifo_upcall_entry, @function
pvkvm_fifo_upcall_entry:
	SAVE_GPRS
	CALL_ALIGNED evtchn_fifo_upcall_interrupt
	RESTORE_GPRS
	iretq
	.size pvkvm_fifo_upcall_entry, . - pvkvm_fifo_upcall_entry

	.section .note.GNU-stack, "", @progbits
