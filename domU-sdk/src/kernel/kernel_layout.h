/*
 * kernel_layout.h: constants the kernel's C and assembly share — selectors, the memory regions
 * and their page-table bits, stack sizes. (C declarations are in kernel.h.)
 */
#ifndef PVKVM_KERNEL_LAYOUT_H
#define PVKVM_KERNEL_LAYOUT_H

/* GDT selectors (entry.S builds the GDT in this order). */
#define KSEL_CODE64 0x08
#define KSEL_DATA 0x10
#define KSEL_CODE32 0x18
#define USEL_DATA (0x20 | 3)
#define USEL_CODE64 (0x28 | 3)
#define KSEL_TSS0 0x30 /* vCPU n: KSEL_TSS0 + 16 * n */

#define KNR_CPUS 32

/* The kernel's image (link.ld) is [KREGION_START, KREGION_END); the whole 2 MiB page below
 * KREGION_END, low memory included, is supervisor-only (pagetables.S). */
#define KREGION_START 0x100000
#define KREGION_END 0x200000
/* The 2 MiB pages of the local APIC and the IOAPIC, also supervisor-only (only the APIC's 4 KiB
 * page of the first: the rest of it holds the special pages user code reads, such as the rings). */
#define KIOAPIC_BASE 0xFEC00000
#define KLAPIC_BASE 0xFEE00000

#define KSTACK_SIZE 16384        /* per vCPU: interrupts and kernel calls from CPL 3 */
#define KBOOT_STACK_SIZE 16384   /* kernel_main on vCPU 0 */
#define UBOOT_STACK_SIZE 65536   /* main on vCPU 0 (user memory) */

/* Kernel calls the assembly handles itself (<pvkvm/kcall.h>; checked in kcall.c). */
#define KCALL_BASE 0x100
#define KCALL_NULL 0x100
#define KLAPIC_EOI_ADDR (KLAPIC_BASE + 0xB0)
#define KERR_EFAULT 14 /* XEN_EFAULT */
#define KERR_ENOSYS 38 /* XEN_ENOSYS */
/* Stubs on the hypercall page (PVKVM_HYPERCALL_NR_STUBS): numbers from here to KCALL_BASE have
 * none, and `call page + nr * 32` would run whatever the kernel keeps after the page, at CPL 0. */
#define KHC_NR_STUBS 128
/* __HYPERVISOR_iret: its stub is `ud2` (HVM guests must not use it), a #UD in the kernel if called. */
#define KHC_IRET 23
/* ISA IRQs (<pvkvm/isa.h>, checked in kisa.c): vector base, and the route virq_entry.S handles
 * itself. */
#define KISA_VECTOR_BASE 0x20
#define KISA_ROUTE_IOAPIC 2

/* khc_class (hcall.c): how gate.S checks a hypercall from CPL 3. */
#define KHC_PTR3 0   /* RDI, RSI and RDX may be pointers */
#define KHC_NO_PTR 1 /* no pointers */
#define KHC_C 2      /* checked in C */
#define KHC_PTR_RSI 3 /* the one pointer is RSI */
#define KHC_EVTCHN 4  /* as KHC_PTR_RSI, but the FIFO set-up ops name frames: checked in C */
/* The event_channel_op commands KHC_EVTCHN sends to C (EVTCHNOP_init_control, expand_array). */
#define KEVTCHNOP_SEND 4 /* EVTCHNOP_send: the 64-bit stub reads its port itself */
#define KEVTCHNOP_FIRST_FRAME_OP 11
#define KEVTCHNOP_LAST_FRAME_OP 12

/* A hypercall's pointer argument may not lie in the kernel's region, nor within this many bytes
 * below it (so a struct that starts below cannot reach into it). */
#define KPTR_WINDOW 0x10000

/* struct kcpu (kernel.h): what the syscall entry reads through KERNEL_GS_BASE. */
#define KCPU_KSTACK_OFF 0
#define KCPU_SCRATCH_OFF 8

/* Page-table entry bits. */
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_U 0x4
#define PTE_PS 0x80

#endif
