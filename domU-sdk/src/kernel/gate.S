/*
 * gate.S: the kernel-call gate (<pvkvm/kcall.h>) — its two entries and the dispatch they share.
 *
 * int3 through the DPL-3 gate (vector 3) enters with an iret frame on this vCPU's kernel stack
 * (TSS RSP0). `syscall` enters on the caller's stack, so its entry builds the same frame on the
 * kernel stack (found through KERNEL_GS_BASE, swapgs only around the switch) and joins. Both
 * return with iretq.
 *
 * Hypercalls, the common case, stay in assembly: their pointer arguments (RSI for the common
 * calls, RDI, RSI and RDX for the rest, none for set_timer_op: khc_class in hcall.c) must not
 * point into the kernel's region, where the hypervisor would write for us; then the page's stub
 * is called with the caller's registers as they are. Hypercalls whose arguments hold
 * further addresses to check (memory_op, multicall, grant_table_op, vcpu_op, console_io, the FIFO
 * event-channel set-up) and the
 * kernel's own services go to C (kcall.c).
 */
#include "kernel_layout.h"

	.text
	.code64

	.balign 16
	.globl kcall_int3_entry
kcall_int3_entry:
	testb $3, 8(%rsp)               /* CS: int3 in CPL-0 code is a breakpoint, not a call */
	jz kernel_breakpoint
	.globl kcall_dispatch
kcall_dispatch:
	cmpq $KCALL_BASE, %rax
	jae 4f
	cmpq $KHC_NR_STUBS, %rax        /* no stub: answer as Xen does an unknown number */
	jae 7f
	cmpq $KHC_IRET, %rax            /* a ud2 stub: answer as Xen answers an HVM guest */
	je 7f
	movzbl khc_class(%rax), %ecx
	cmpl $KHC_PTR_RSI, %ecx         /* the common case first */
	je 5f
	cmpl $KHC_EVTCHN, %ecx
	je 6f
	cmpl $KHC_NO_PTR, %ecx
	je 2f
	ja kcall_slow                   /* KHC_C */
	leaq -(KREGION_START - KPTR_WINDOW)(%rdi), %rcx
	cmpq $(KREGION_END - KREGION_START + KPTR_WINDOW), %rcx
	jb 3f
	leaq -(KREGION_START - KPTR_WINDOW)(%rdx), %rcx
	cmpq $(KREGION_END - KREGION_START + KPTR_WINDOW), %rcx
	jb 3f
5:	leaq -(KREGION_START - KPTR_WINDOW)(%rsi), %rcx
	cmpq $(KREGION_END - KREGION_START + KPTR_WINDOW), %rcx
	jb 3f
2:	shlq $5, %rax
	addq $pvkvm_hypercall_page, %rax
	call *%rax
	iretq
3:	movq $-KERR_EFAULT, %rax
	iretq
7:	movq $-KERR_ENOSYS, %rax
	iretq
/* event_channel_op: the FIFO set-up ops name frames the hypervisor writes (C checks them); the
 * hypervisor takes the command from EDI's 32 bits, so the test does too. */
6:	cmpl $KEVTCHNOP_SEND, %edi
	jne 8f
	leaq -KREGION_END(%rsi), %rcx   /* the stub reads the port at RSI: only from RAM we know */
	cmpq khc_send_span(%rip), %rcx
	ja kcall_slow
	jmp 2b
8:	cmpl $KEVTCHNOP_FIRST_FRAME_OP, %edi
	jb 5b
	cmpl $KEVTCHNOP_LAST_FRAME_OP, %edi
	jbe kcall_slow
	jmp 5b
4:	cmpq $KCALL_NULL, %rax          /* the gate's own cost, for benchmarks */
	jne kcall_slow
	xorl %eax, %eax
	iretq

/* kcall_c(a1, a2, a3, a4, a5, nr) in kcall.c. The convention lets it clobber RAX, RCX, R11 and
 * the argument registers; of what C may clobber only R9 must survive (RBX, RBP, R12-R15 are
 * C's to keep). The stack is 16-byte aligned at the call: five CPU words and one push. */
kcall_slow:
	pushq %r9
	movq %r10, %rcx
	movq %rax, %r9
	call kcall_c
	popq %r9
	iretq

kernel_breakpoint:
	pushq $0                        /* error code */
	pushq $3                        /* vector */
	jmp trap_common

/* syscall: CPL 0, IF = 0 (SFMASK), RSP = the caller's, RCX = its RIP, R11 = its RFLAGS. */
	.balign 16
	.globl kcall_syscall_entry
kcall_syscall_entry:
	swapgs
	movq %rsp, %gs:KCPU_SCRATCH_OFF
	movq %gs:KCPU_KSTACK_OFF, %rsp
	pushq $USEL_DATA
	pushq %gs:KCPU_SCRATCH_OFF
	swapgs
	pushq %r11
	pushq $USEL_CODE64
	pushq %rcx
	jmp kcall_dispatch

/* void kenter(rip, rsp, user, arg): start code at CPL 3 (user != 0, interrupts on) or CPL 0
 * (interrupts off) with RDI = arg, through an iret frame. */
	.globl kenter
kenter:
	movq %rcx, %r8
	testl %edx, %edx
	jz 1f
	pushq $USEL_DATA
	pushq %rsi
	pushq $0x202                    /* IF; the virtual flag starts off (cpu.c) */
	pushq $USEL_CODE64
	pushq %rdi
	jmp 2f
1:	pushq $KSEL_DATA
	pushq %rsi
	pushq $0x2
	pushq $KSEL_CODE64
	pushq %rdi
2:	movq %r8, %rdi
	xorl %eax, %eax                 /* no kernel values for the new code to see */
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	iretq

	.section .note.GNU-stack, "", @progbits
