/*
 * irq.S: interrupt entry stubs for the event-channel upcall vector and the APIC spurious vector.
 *
 * pvkvm_upcall_entry saves every general register (the SDK is built without SSE, so C code never
 * touches vector registers), aligns the stack, calls pvkvm_upcall_interrupt() (src/irq.c: EOI in
 * per-vCPU-vector mode, then the event dispatcher), restores and returns with iretq. The gate is
 * an interrupt gate, so IF stays clear throughout and upcalls never nest. The SDK runs with
 * -mno-red-zone, so interrupting on the current stack is safe.
 */
	.text
	.code64

	.balign 16
	.globl pvkvm_upcall_entry
	.type pvkvm_upcall_entry, @function
pvkvm_upcall_entry:
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
	movq %rsp, %rbx                 /* callee-saved: where the registers are */
	andq $-16, %rsp
	call pvkvm_upcall_interrupt
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
