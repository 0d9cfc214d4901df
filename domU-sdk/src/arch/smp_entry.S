/*
 * smp_entry.S: entry of a secondary vCPU started by pvkvm_start_vcpu (src/xen/smp.c).
 *
 * VCPUOP_initialise (64-bit vcpu_hvm_context) starts us in long mode with paging on (the boot
 * vCPU's CR0/CR3/CR4/EFER), IF = 0, RSP = top of this vCPU's stack, RDI = our vCPU id, flat
 * segments set by the hypervisor (CS 0x08 64-bit, data 0x10), and a GDTR/IDTR that must not be
 * trusted. Load the SDK's GDT, reload the data segments and CS (far return), then continue in C,
 * which loads the IDT and does the per-CPU set-up.
 */
#define SEL_CODE64 0x08
#define SEL_DATA 0x10

	.text
	.code64
	.balign 16
	.globl pvkvm_secondary_entry
	.type pvkvm_secondary_entry, @function
pvkvm_secondary_entry:
	cli
	cld
	lgdt pvkvm_gdt_desc(%rip)
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	pushq $SEL_CODE64
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	andq $-16, %rsp
	xorl %ebp, %ebp
	call pvkvm_secondary_main       /* RDI = vCPU id; does not return */
2:	cli
	hlt
	jmp 2b
	.size pvkvm_secondary_entry, . - pvkvm_secondary_entry

	.section .note.GNU-stack, "", @progbits
