/* int40.S: the handler of vector 0x40 — records the frame the CPU (here: pvkvm) pushed and RFLAGS
 * inside the handler, then returns with IRETQ. */
	.text
	.globl	int40_entry
int40_entry:
	pushq	%rax
	movq	8(%rsp), %rax
	movq	%rax, int40_frame + 0		/* RIP */
	movq	16(%rsp), %rax
	movq	%rax, int40_frame + 8		/* CS */
	movq	24(%rsp), %rax
	movq	%rax, int40_frame + 16		/* RFLAGS */
	movq	32(%rsp), %rax
	movq	%rax, int40_frame + 24		/* RSP */
	movq	40(%rsp), %rax
	movq	%rax, int40_frame + 32		/* SS */
	pushfq
	popq	%rax
	movq	%rax, int40_flags_inside
	incl	int40_count
	popq	%rax
	iretq

/* INT 0x40 with RSP recorded just before it; returns the address after the INT. */
	.globl	do_int40
do_int40:
	movq	%rsp, int40_rsp_before
	int	$0x40
1:	leaq	1b(%rip), %rax
	ret

	.bss
	.balign	8
	.globl	int40_frame, int40_flags_inside, int40_count, int40_rsp_before
int40_frame:		.skip 40
int40_flags_inside:	.skip 8
int40_rsp_before:	.skip 8
int40_count:		.skip 4
