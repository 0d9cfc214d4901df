/* ap32.S: the 32-bit entry of smp32's secondary vCPU — protected mode, paging off, as the 32B
 * vcpu_hvm_context put it: record ESI and ESP (both come from the context), then halt. */
	.section .text
	.code32
	.globl ap32_entry
ap32_entry:
	movl	%esi, ap32_esi
	movl	%esp, ap32_esp
	movl	%cs, %eax
	movl	%eax, ap32_cs
	movl	$1, ap32_done
1:	cli
	hlt
	jmp	1b
	.code64
