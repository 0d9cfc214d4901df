/*
 * virq_user.S: where the kernel sends CPL-3 code (PVKVM_MODE_USER) to run handlers, and how it
 * comes back, all at CPL 3 so nothing here is emulated on kvm_pvm hosts.
 *
 * pvkvm_virq_trampoline: entered by the kernel's interrupt path (src/kernel/virq_entry.S) on the
 * interrupted stack, with the virtual interrupt flag off and the interrupted RIP and RFLAGS left
 * in this vCPU's pvkvm_cpu (so the kernel never writes the user stack). It pushes them, runs the
 * handlers, turns the flag back on (running anything that arrived in the meantime), restores the
 * registers and returns with popfq; ret. An interrupt between the flag going on and that ret is
 * delivered on top, on the same stack (the SDK is built with -mno-red-zone, so nothing lives
 * below RSP); none can come before the two pushes, the flag being off.
 *
 * pvkvm_trap_trampoline / pvkvm_trap_resume: an exception for a user trap hook (traps.c), and the
 * way back to the (possibly edited) frame it handled.
 *
 * pvkvm_gate_probe_user: the CPL-3 half of the kernel's syscall probe (src/kernel/probe.S).
 */
#include <pvkvm/cpu.h>
#include "gpr-frame.inc"

	.text
	.code64
	.globl pvkvm_virq_trampoline
pvkvm_virq_trampoline:
	pushq %gs:PVKVM_CPU_RESUME_RIP
	pushq %gs:PVKVM_CPU_RESUME_RFLAGS
	SAVE_GPRS
	CALL_ALIGNED pvkvm_virq_run
1:	movl $0, %gs:PVKVM_CPU_IRQ_OFF
	cmpq $0, %gs:PVKVM_CPU_PENDING
	je 2f
	movl $1, %gs:PVKVM_CPU_IRQ_OFF
	CALL_ALIGNED pvkvm_virq_run
	jmp 1b
2:	RESTORE_GPRS
	popfq                           /* IF and IOPL are not changed at CPL 3: only the flags */
	ret

	.globl pvkvm_trap_trampoline
pvkvm_trap_trampoline:                  /* RDI = the frame; RSP = the frame too */
	subq $8, %rsp                   /* as after a call: 16-byte aligned + 8 */
	jmp pvkvm_user_trap             /* does not return */

/* struct pvkvm_trap_frame offsets (<pvkvm/traps.h>): the fifteen registers first, in the order
 * SAVE_GPRS leaves them on a stack, then vector, error code and the CPU's frame. */
#define F_RIP (17 * 8)
#define F_RFLAGS (19 * 8)
#define F_RSP (20 * 8)

/* pvkvm_trap_resume(frame, off): below the frame's RSP put its RIP and RFLAGS and under them its
 * registers as SAVE_GPRS would (the kernel left room there above the frame), switch to that
 * stack, and leave as pvkvm_virq_trampoline does, turning the virtual flag back on unless `off`.
 * From the switch on nothing needed lies below RSP, so an interrupt may land at any point. */
	.globl pvkvm_trap_resume
pvkvm_trap_resume:
	movl %esi, %r8d
	movq F_RSP(%rdi), %rax
	subq $16, %rax
	movq F_RIP(%rdi), %rcx
	movq %rcx, 8(%rax)
	movq F_RFLAGS(%rdi), %rcx
	movq %rcx, (%rax)
	movq %rdi, %rsi
	leaq -15*8(%rax), %rdi
	movl $15, %ecx
	cld
	rep movsq
	leaq -15*8(%rax), %rsp
	testl %r8d, %r8d
	jnz 2f
1:	movl $0, %gs:PVKVM_CPU_IRQ_OFF
	cmpq $0, %gs:PVKVM_CPU_PENDING
	je 2f
	movl $1, %gs:PVKVM_CPU_IRQ_OFF
	CALL_ALIGNED pvkvm_virq_run
	jmp 1b
2:	RESTORE_GPRS
	popfq
	ret

	.globl pvkvm_gate_probe_user
pvkvm_gate_probe_user:
	syscall
	ud2                             /* back here at CPL 3 somehow: the trap says "no" */

	.section .note.GNU-stack, "", @progbits
