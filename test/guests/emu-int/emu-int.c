/*
 * emu-int: software interrupts from 64-bit kernel code — INT n through an interrupt gate (the frame,
 * the stack, IF cleared inside, IRETQ back), INT3 and INT 3 as #BP with RIP after the instruction,
 * and INT n through an empty IDT entry (#GP with error code vector*8+2). KVM's emulator cannot
 * deliver any of them on this host; pvkvm does.
 */
#include <pvkvm/pvkvm.h>

/* These instructions must run at CPL 0, where this host's KVM emulates them and pvkvm completes what it cannot. */
PVKVM_SDK_MODE(kernel);

void int40_entry(void);
unsigned long do_int40(void);
extern uint64_t int40_frame[5], int40_flags_inside, int40_rsp_before;
extern uint32_t int40_count;

static volatile unsigned long want_vector = ~0ul, want_skip, got_error, got_rip;
static volatile unsigned traps;

static int hook(struct pvkvm_trap_frame *f) {
  if (f->vector != want_vector) return 0;
  traps++;
  got_error = f->error_code;
  got_rip = f->rip;
  f->rip += want_skip;
  want_vector = ~0ul;
  return 1;
}

static unsigned long flags(void) { unsigned long v; __asm__ volatile("pushfq; popq %0" : "=r"(v)); return v; }

int main(void) {
  REQUIRE_XEN();
  pvkvm_set_trap_hook(hook);
  pvkvm_set_idt_gate(0x40, int40_entry);

  /* With IF set, to see the interrupt gate clear it (no events are bound, so nothing arrives). */
  __asm__ volatile("sti");
  unsigned long after = do_int40();
  __asm__ volatile("cli");
  CHECK_EQ(int40_count, 1);
  CHECK_EQ(int40_frame[0], after);
  CHECK_EQ(int40_frame[1], PVKVM_SEL_CODE64);
  CHECK(int40_frame[2] & 0x200);
  CHECK_EQ(int40_frame[3], int40_rsp_before);
  CHECK_EQ(int40_frame[4], PVKVM_SEL_DATA);
  CHECK_EQ(int40_flags_inside & 0x200, 0);
  CHECK_EQ(flags() & 0x200, 0);
  printf("emu-int: int 0x40 frame rip ok, cs 0x%lx, ss 0x%lx, IF cleared in the handler\n",
         (unsigned long)int40_frame[1], (unsigned long)int40_frame[4]);

  /* INT3 and INT 3 arrive as #BP with RIP after the instruction. */
  unsigned long at;
  want_vector = 3; want_skip = 0;
  __asm__ volatile("leaq 1f(%%rip), %0\n int3\n1:" : "=r"(at) : : "memory");
  CHECK_EQ(traps, 1);
  CHECK_EQ(got_rip, at);
  want_vector = 3;
  __asm__ volatile("leaq 1f(%%rip), %0\n .byte 0xcd, 0x03\n1:" : "=r"(at) : : "memory");
  CHECK_EQ(traps, 2);
  CHECK_EQ(got_rip, at);
  printf("emu-int: int3 and int 3 ok\n");

  /* An empty IDT entry: #GP(0x41*8+2) with RIP at the INT. */
  want_vector = 13; want_skip = 2;
  __asm__ volatile("leaq 1f(%%rip), %0\n1: int $0x41" : "=r"(at) : : "memory");
  CHECK_EQ(traps, 3);
  CHECK_EQ(got_error, 0x41 * 8 + 2);
  CHECK_EQ(got_rip, at);
  printf("emu-int: int 0x41 without a gate: #GP 0x%lx ok\n", (unsigned long)got_error);
  test_done();
}
