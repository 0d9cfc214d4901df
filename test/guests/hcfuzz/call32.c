/*
 * call32.c: hcfuzz's way into 32-bit compatibility mode for one hypercall (abi=32).
 *
 * long hc32_call(uint64_t target, const uint64_t r[6])
 *
 * Loads RAX, RBX, RCX, RDX, RSI, RDI whole from r (the 32-bit convention: EAX = nr, arguments in
 * EBX, ECX, EDX, ESI, EDI; upper halves set so the hypervisor must drop them), far-calls a 32-bit
 * code segment (PVKVM_SEL_CODE32) that calls `target` and far-returns. `target` is a stub of the
 * hypercall page (which sets EAX itself) or hc32_trap, a bare `out` to the trap port with EAX as
 * loaded (numbers past the page, iret's, EVTCHNOP_send without the page's fast path, and no
 * continuation: the bytes before it are no stub). Returns EAX sign-extended. The code, the stack
 * and the target all lie below 4 GiB. (In C for the constants; the body is assembly.)
 */
#include "hcfuzz.h"

#define STR_(x) #x
#define STR(x) STR_(x)

__asm__(
    "  .text\n"
    "  .code64\n"
    "  .globl hc32_call\n"
    "  .type hc32_call, @function\n"
    "hc32_call:\n"
    "  pushq %rbx\n"
    "  pushq %rbp\n"
    "  pushq %r12\n" /* upper halves of the GPRs are undefined after compatibility mode */
    "  pushq %r13\n"
    "  pushq %r14\n"
    "  pushq %r15\n"
    "  movq %rdi, %rbp\n"
    "  movq 0(%rsi), %rax\n"
    "  movq 8(%rsi), %rbx\n"
    "  movq 16(%rsi), %rcx\n"
    "  movq 24(%rsi), %rdx\n"
    "  movq 40(%rsi), %rdi\n"
    "  movq 32(%rsi), %rsi\n"
    "  lcall *hc32_far(%rip)\n"
    "  movslq %eax, %rax\n"
    "  popq %r15\n"
    "  popq %r14\n"
    "  popq %r13\n"
    "  popq %r12\n"
    "  popq %rbp\n"
    "  popq %rbx\n"
    "  ret\n"
    "  .size hc32_call, . - hc32_call\n"
    "  .code32\n"
    "hc32_entry:\n"
    "  call *%ebp\n"
    "  lret\n"
    "  .globl hc32_trap\n"
    "hc32_trap:\n"
    "  outb %al, $" STR(PVKVM_HYPERCALL_TRAP_PORT) "\n"
    "  ret\n"
    "  .code64\n"
    "  .section .rodata\n"
    "  .balign 8\n"
    "hc32_far:\n"
    "  .long hc32_entry\n"
    "  .word " STR(PVKVM_SEL_CODE32) "\n"
    "  .text\n");
