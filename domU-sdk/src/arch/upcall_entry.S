/*
 * upcall_entry.S: interrupt entry stubs for the event-channel upcall vector and the APIC
 * spurious vector.
 *
 * pvkvm_upcall_entry saves every general register (the SDK is built without SSE, so C code never
 * touches vector registers), aligns the stack, calls pvkvm_upcall_interrupt() (src/xen/evtchn.c:
 * EOI in per-vCPU-vector mode, then the event dispatcher), restores and returns with iretq. The gate is
 * an interrupt gate, so IF stays clear throughout and upcalls never nest. The SDK runs with
 * -mno-red-zone, so interrupting on the current stack is safe.
 */
#include "gpr-frame.inc"

	.text
	.code64

	.balign 16
	.globl pvkvm_upcall_entry
	.type pvkvm_upcall_entry, @function
pvkvm_upcall_entry:
	SAVE_GPRS
	CALL_ALIGNED pvkvm_upcall_interrupt
	RESTORE_GPRS
	iretq
	.size pvkvm_upcall_entry, . - pvkvm_upcall_entry

/* The APIC's spurious vector: no EOI (the ISR bit is not set for it). */
	.balign 16
	.globl pvkvm_spurious_entry
	.type pvkvm_spurious_entry, @function
pvkvm_spurious_entry:
	lock incq pvkvm_spurious_count(%rip)
	iretq
	.size pvkvm_spurious_entry, . - pvkvm_spurious_entry

	.bss
	.balign 8
	.globl pvkvm_spurious_count
pvkvm_spurious_count:
	.quad 0

	.section .note.GNU-stack, "", @progbits
