/*
 * entry.S: the PVH entry point and the GDT.
 *
 * A PVH loader (pvkvm, Xen, QEMU -kernel) enters _start32 in 32-bit protected mode with paging
 * off and EBX = physical address of struct hvm_start_info. This host's KVM runs 32-bit unpaged
 * code in a slow emulator and cannot run 32-bit paged code at all, so the 32-bit part does the
 * bare minimum: load the static page tables (pagetables.S), enable PAE and EFER.LME, load the
 * GDT, turn on paging and far-jump straight into 64-bit code, which zeroes the kernel's and the
 * user image's .bss and calls kernel_main (kmain.c) on the boot stack.
 */
#include "kernel_layout.h"

#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)

/* ELF note "Xen", type XEN_ELFNOTE_PHYS32_ENTRY (18, checked against the ABI in kmain.c). */
	.section .note.xen, "a", @note
	.balign 4
	.long 4                 /* namesz: "Xen" and its NUL */
	.long 4                 /* descsz: one 32-bit address */
	.long 18                /* type */
	.asciz "Xen"
	.long _start32          /* desc: physical entry */

	.section .text.boot, "ax", @progbits
	.code32
	.globl _start32
	.type _start32, @function
_start32:
	cli
	cld
	movl %ebx, %esi                 /* hvm_start_info, passed on to kernel_main */
	movl $pvkvm_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	lgdt pvkvm_gdt_desc
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $KSEL_CODE64, $_start64
	.size _start32, . - _start32

	.code64
	.type _start64, @function
_start64:
	movl $KSEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	/* Zero both .bss regions (the boot stack is outside them: kernel stacks are never zeroed). */
	movl $__kbss_start, %edi
	movl $__kbss_end, %ecx
	subl %edi, %ecx
	shrl $3, %ecx
	xorl %eax, %eax
	rep stosq
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $3, %ecx
	rep stosq
	movq $kboot_stack_top, %rsp
	xorl %ebp, %ebp
	movl %esi, %edi                 /* zero-extends: struct hvm_start_info * */
	call kernel_main                /* does not return */
1:	cli
	hlt
	jmp 1b
	.size _start64, . - _start64

/*
 * GDT. Selectors are mirrored in kernel_layout.h and <pvkvm/arch.h>. Each vCPU has its own TSS
 * descriptor (16 bytes), filled by cpu.c when the vCPU starts.
 */
	.section .data, "aw", @progbits
	.balign 16
	.globl pvkvm_gdt
pvkvm_gdt:
	.quad 0                         /* 0x00 null */
	.quad 0x00af9a000000ffff        /* 0x08 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff        /* 0x10 data, DPL 0 */
	.quad 0x00cf9a000000ffff        /* 0x18 32-bit code (compatibility mode), DPL 0 */
	.quad 0x00cff2000000ffff        /* 0x20 data, DPL 3 */
	.quad 0x00affa000000ffff        /* 0x28 64-bit code, DPL 3 */
	.fill 2 * KNR_CPUS, 8, 0        /* 0x30 + 16 * n: vCPU n's TSS */
pvkvm_gdt_end:

	.balign 8
	.globl pvkvm_gdt_desc
pvkvm_gdt_desc:
	.word pvkvm_gdt_end - pvkvm_gdt - 1
	.quad pvkvm_gdt

/* The boot stack: kernel_main runs here, apart from vCPU 0's interrupt stack (see cpu.c). */
	.section .kstacks, "aw", @nobits
	.balign 16
kboot_stack:
	.skip KBOOT_STACK_SIZE
kboot_stack_top:
	.globl pvkvm_kstacks
pvkvm_kstacks:                          /* vCPU n's kernel stack: cpu.c puts its top in TSS n */
	.skip KSTACK_SIZE * KNR_CPUS

	.section .note.GNU-stack, "", @progbits
