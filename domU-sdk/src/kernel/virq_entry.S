/*
 * virq_entry.S: the kernel's interrupt entries — the ISA IRQs 0x20..0x2F, the idle tick 0x30,
 * the event-channel upcall 0xF3 and the APIC spurious vector 0xFF.
 *
 * Each acknowledges at once (EOI, so no vector is ever in service while IF = 1) and records the
 * interrupt as a bit in the vCPU's pvkvm_cpu.pending (%gs), with a plain `or`: only this vCPU
 * touches its word, user code with one xchg that cannot interleave with us (the emulator's locked
 * read-modify-write would cost more here, for nothing). Then virq_deliver decides who runs
 * the handlers, keeping the CPL-0 part short (every instruction is emulated on kvm_pvm hosts):
 *   - CPL 3 was interrupted and its virtual flag is on: the flag goes off, the interrupted RIP and
 *     RFLAGS go to the vCPU's pvkvm_cpu and iretq enters pvkvm_virq_trampoline
 *     (src/arch/virq_user.S) at CPL 3 on the interrupted stack, which runs the handlers there and
 *     resumes; with the flag off, the bit just waits;
 *   - CPL 0 was interrupted in PVKVM_MODE_KERNEL: the handlers run here, on this stack, as a plain
 *     kernel's would;
 *   - the kernel itself was interrupted (a halt on behalf of user code): the bit waits for the
 *     kernel call's caller.
 */
#include <pvkvm/cpu.h>
#include "kernel_layout.h"
#include "../arch/gpr-frame.inc"

	.text
	.code64

.macro ISA_STUB vec
	.balign 16
isa_stub_\vec:
	pushq %rax
	pushq %rcx
	movl $\vec, %eax
	jmp isa_common
.endm

	.irp vec, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	ISA_STUB \vec
	.endr

/* With the IOAPIC (pvkvm's default) the EOI goes to the local APIC and the IRQ is never spurious:
 * done here. The PIC route needs the spurious check and the PICs' EOIs: kisa_ack in C, with what
 * C may clobber saved (the stack is 16-byte aligned at the call: five CPU words, nine pushes). */
isa_common:
	cmpl $KISA_ROUTE_IOAPIC, kisa_route(%rip)
	jne 1f
	movl $KLAPIC_EOI_ADDR, %ecx
	movl $0, (%rcx)
	leal (PVKVM_VIRQ_ISA_SHIFT - KISA_VECTOR_BASE)(%rax), %ecx
	movl $1, %eax
	shlq %cl, %rax
	jmp 2f
1:	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	movq %rax, %rdi
	call kisa_ack                   /* EOI; returns the pending bit, or 0 if spurious */
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	testq %rax, %rax
	jz virq_return
2:	orq %rax, %gs:PVKVM_CPU_PENDING
	jmp virq_deliver

/* The idle tick only ends a halt (kcall.c, KC_IDLE): EOI and return. */
	.balign 16
tick_stub:
	pushq %rax
	movl $KLAPIC_EOI_ADDR, %eax
	movl $0, (%rax)
	popq %rax
	iretq

/* The upcall. EOI first, as Linux does, so an event raised while we dispatch is requested again;
 * with the domain-wide callback vector (ExtINT, no EOI needed) nothing is in service and the EOI
 * is ignored. */
	.balign 16
	.globl kvirq_upcall_entry
kvirq_upcall_entry:
	pushq %rax
	pushq %rcx
	movl $KLAPIC_EOI_ADDR, %eax
	movl $0, (%rax)
	orq $PVKVM_VIRQ_UPCALL, %gs:PVKVM_CPU_PENDING
	jmp virq_deliver

/* The APIC's spurious vector: no EOI (the ISR bit is not set for it). */
	.balign 16
	.globl kvirq_spurious_entry
kvirq_spurious_entry:
	lock incq pvkvm_spurious_count(%rip)
	iretq

/* Stack: RCX, RAX, then the CPU's frame: RIP +16, CS +24, RFLAGS +32, RSP +40, SS +48. */
virq_deliver:
	testb $3, 24(%rsp)
	jz 3f
	cmpl $0, %gs:PVKVM_CPU_IRQ_OFF
	jne virq_return
	movl $1, %gs:PVKVM_CPU_IRQ_OFF  /* handlers run with the virtual flag off */
	movq 16(%rsp), %rax
	movq %rax, %gs:PVKVM_CPU_RESUME_RIP
	movq 32(%rsp), %rax
	movq %rax, %gs:PVKVM_CPU_RESUME_RFLAGS
	movq $pvkvm_virq_trampoline, 16(%rsp)
virq_return:
	popq %rcx
	popq %rax
	iretq
3:	cmpl $PVKVM_MODE_KERNEL, kmode(%rip)
	jne virq_return                 /* the kernel was interrupted: the caller takes the bit */
	popq %rcx
	popq %rax
	SAVE_GPRS
	CALL_ALIGNED pvkvm_virq_run
	RESTORE_GPRS
	iretq

	.section .rodata
	.balign 8
	.globl kvirq_isa_stubs
kvirq_isa_stubs:                        /* vectors 0x20..0x2F, then the tick 0x30 */
	.irp vec, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.quad isa_stub_\vec
	.endr
	.quad tick_stub

	.section .note.GNU-stack, "", @progbits
