/*
 * pagetables.S: the static identity map of the first 4 GiB, built by the assembler (the 32-bit
 * entry has no time to build it: docs/host-kvm.md §1.4).
 *
 * Every entry is user-accessible (U/S = 1) except:
 *   [0, 2 MiB)               one 2 MiB page: the kernel (link.ld, from 1 MiB) and low memory;
 *   the local APIC's page    0xFEE00000 (the rest of its 2 MiB holds the special pages);
 *   the IOAPIC's 2 MiB page  0xFEC00000.
 * The kernel gets a whole 2 MiB page because on kvm_pvm hosts every distinct 4 KiB page that
 * CPL-0 code touches costs tens of thousands of cycles again on each entry from CPL 3: a null
 * kernel call took ~240,000 cycles with the kernel in 4 KiB pages, ~58,000 in one 2 MiB page.
 * Interrupt controllers are the kernel's to program. In PVKVM_MODE_KERNEL nothing runs at CPL 3,
 * so the U/S bits change nothing there.
 */
#include "kernel_layout.h"

#define UPAGE (PTE_P | PTE_W | PTE_U)
#define KPAGE (PTE_P | PTE_W)
#define PD_IOAPIC (KIOAPIC_BASE >> 21)
#define PD_LAPIC (KLAPIC_BASE >> 21)

	.section .data.pagetables, "aw", @progbits
	.balign 4096
	.globl pvkvm_pml4
pvkvm_pml4:
	.quad pvkvm_pdpt + UPAGE
	.fill 511, 8, 0
pvkvm_pdpt:
	.quad pvkvm_pd + 0x0000 + UPAGE
	.quad pvkvm_pd + 0x1000 + UPAGE
	.quad pvkvm_pd + 0x2000 + UPAGE
	.quad pvkvm_pd + 0x3000 + UPAGE
	.fill 508, 8, 0
pvkvm_pd:
	.quad 0 | KPAGE | PTE_PS        /* [0, 2 MiB): the kernel's */
	.set page, 1
	.rept 2047
	.if page == PD_LAPIC
	.quad pvkvm_pt_apic + UPAGE
	.elseif page == PD_IOAPIC
	.quad (page << 21) | KPAGE | PTE_PS
	.else
	.quad (page << 21) | UPAGE | PTE_PS
	.endif
	.set page, page + 1
	.endr

/* 0xFEE00000: the local APIC's page for the kernel, the rest (special pages) for everyone. */
pvkvm_pt_apic:
	.quad KLAPIC_BASE | KPAGE
	.set page, 1
	.rept 511
	.quad (KLAPIC_BASE + (page << 12)) | UPAGE
	.set page, page + 1
	.endr

	.section .note.GNU-stack, "", @progbits
