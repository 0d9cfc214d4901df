/*
 * pvh_entry.S: the PVH entry point.
 *
 * A PVH loader (pvkvm, Xen, QEMU -kernel) enters _start32 in 32-bit protected mode with paging
 * off and EBX = physical address of struct hvm_start_info. This host's KVM runs 32-bit unpaged
 * code in a slow emulator and cannot run 32-bit paged code at all, so the 32-bit part does the
 * bare minimum: load static identity page tables (first 4 GiB, 2 MiB pages), enable PAE and
 * EFER.LME, load the GDT, turn on paging and far-jump straight into 64-bit code.
 */

#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define PTE_PRESENT 0x1
#define PTE_WRITE 0x2
#define PTE_LARGE 0x80
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define STACK_SIZE 65536

/* ELF note "Xen", type XEN_ELFNOTE_PHYS32_ENTRY (18, checked against the ABI in start.c). */
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
	movl %ebx, %esi                 /* hvm_start_info, passed on to main_entry */
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
	ljmp $SEL_CODE64, $_start64
	.size _start32, . - _start32

	.code64
	.type _start64, @function
_start64:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	/* Zero .bss (the stack lives there too, so before first use). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $3, %ecx
	xorl %eax, %eax
	rep stosq
	movq $pvkvm_stack_top, %rsp
	xorl %ebp, %ebp
	movl %esi, %edi                 /* zero-extends: struct hvm_start_info * */
	call main_entry
1:	cli
	hlt
	jmp 1b
	.size _start64, . - _start64

/*
 * GDT. Selectors are mirrored in <pvkvm/arch.h>. The TSS slot is filled at run time by code
 * that needs one (ring-3 tests).
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
	.quad 0, 0                      /* 0x30 64-bit TSS (16 bytes), filled at run time */
pvkvm_gdt_end:

	.balign 8
	.globl pvkvm_gdt_desc
pvkvm_gdt_desc:
	.word pvkvm_gdt_end - pvkvm_gdt - 1
	.quad pvkvm_gdt

/* Identity map of the first 4 GiB with 2 MiB pages, built by the assembler. */
	.section .data.pagetables, "aw", @progbits
	.balign 4096
	.globl pvkvm_pml4
pvkvm_pml4:
	.quad pvkvm_pdpt + (PTE_PRESENT | PTE_WRITE)
	.fill 511, 8, 0
pvkvm_pdpt:
	.quad pvkvm_pd + 0x0000 + (PTE_PRESENT | PTE_WRITE)
	.quad pvkvm_pd + 0x1000 + (PTE_PRESENT | PTE_WRITE)
	.quad pvkvm_pd + 0x2000 + (PTE_PRESENT | PTE_WRITE)
	.quad pvkvm_pd + 0x3000 + (PTE_PRESENT | PTE_WRITE)
	.fill 508, 8, 0
pvkvm_pd:
	.set page, 0
	.rept 2048
	.quad (page << 21) | (PTE_PRESENT | PTE_WRITE | PTE_LARGE)
	.set page, page + 1
	.endr

	.section .bss, "aw", @nobits
	.balign 16
	.globl pvkvm_stack_bottom, pvkvm_stack_top
pvkvm_stack_bottom:
	.skip STACK_SIZE
pvkvm_stack_top:

	.section .note.GNU-stack, "", @progbits
