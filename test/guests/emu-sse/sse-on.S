/* sse-on.S: turn SSE on as an OS does (CR4.OSFXSR, CR4.OSXMMEXCPT; CR0.MP and NE, EM clear),
 * then FNINIT and the default MXCSR. Assembly, so no compiler-generated SSE runs before it. */
	.text
	.globl	sse_enable
sse_enable:
	movq	%cr4, %rax
	orq	$0x600, %rax
	movq	%rax, %cr4
	movq	%cr0, %rax
	andq	$~0xc, %rax
	orq	$0x22, %rax
	movq	%rax, %cr0
	fninit
	ldmxcsr	mxcsr_default(%rip)
	ret

	.section .rodata
	.balign	4
	.globl	mxcsr_default
mxcsr_default:	.long 0x1f80
