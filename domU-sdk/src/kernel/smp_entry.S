/*
 * smp_entry.S: entry of a secondary vCPU started by the kernel (ksmp.c, for pvkvm_start_vcpu).
 *
 * VCPUOP_initialise (64-bit vcpu_hvm_context) starts us in long mode with paging on (the boot
 * vCPU's CR0/CR3/CR4/EFER), IF = 0, RSP = top of this vCPU's kernel stack, RDI = our vCPU id,
 * flat segments set by the hypervisor (CS 0x08 64-bit, data 0x10), and a GDTR/IDTR that must not
 * be trusted. Load the SDK's GDT, reload the data segments and CS (far return), then continue in
 * C (ksecondary_main), which sets up the vCPU and enters the user side.
 */
#include "kernel_layout.h"

	.text
	.code64
	.balign 16
	.globl ksecondary_entry
	.type ksecondary_entry, @function
ksecondary_entry:
	cli
	cld
	lgdt pvkvm_gdt_desc(%rip)
	movl $KSEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs                  /* GS base is 0 until kcpu_init sets it */
	pushq $KSEL_CODE64
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	andq $-16, %rsp
	xorl %ebp, %ebp
	call ksecondary_main            /* RDI = vCPU id; does not return */
2:	cli
	hlt
	jmp 2b
	.size ksecondary_entry, . - ksecondary_entry

	.section .note.GNU-stack, "", @progbits
