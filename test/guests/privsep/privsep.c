/*
 * privsep: what code at CPL 3 (the domU-sdk's default mode) cannot do, and what it does instead.
 *   - the kernel's pages (its 2 MiB page: the hypercall page, the page tables, code; NULL too)
 *     fault on read and write (#PF with U/S set in the error code), caught by a trap hook that
 *     itself runs at CPL 3;
 *   - a hypercall made by user code itself: with the trap port closed the `out` faults (#GP);
 *     with it open pvkvm answers -EPERM, as Xen does (on pvkvm the kernel opens it with the
 *     event-channel send port next to it, since a send is a 32-bit `out` there);
 *   - privileged instructions (cli) fault, which is why the SDK keeps a virtual interrupt flag;
 *   - the kernel-call gate does issue hypercalls, one batch per crossing with multicall, and
 *     refuses arguments that point at its own pages, VCPUOP_initialise, placing frames over it,
 *     and opening the interrupt controllers' ports;
 *   - ballooning works from CPL 3, but the kernel checks every frame of the extent list: giving
 *     back or repopulating (zeroing) its own frames is refused, even with a continuation extent in
 *     the command's high bits, and so is a list in its memory; the FIFO event set-up may not
 *     place a control block or an event-array page on its frames either.
 *   - the kernel's checks go by its own copy of the boot memory map: user code rewriting the start
 *     info (which lies in user memory) to name a map of billions of entries beyond RAM changes
 *     nothing (the hypercall fuzzer's seed 2 once did, and the kernel then scanned MMIO forever).
 * With crash=1 it reads a kernel address without a hook: the kernel must report the fault and
 * shut the domain down (SHUTDOWN_crash).
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/evtchn_fifo.h>

#define PROBE_FAULTED 0x6b6b6b6b6b6b6b6bull
#define PF_P 0x1
#define PF_W 0x2
#define PF_U 0x4

extern const uint8_t probes_start[], probes_end[], probe_faulted[];
uint64_t probe_read(const volatile void *p);
uint64_t probe_write(volatile void *p, uint64_t v);
long probe_raw_hypercall(void);
uint64_t probe_cli(void);
extern uint64_t pvkvm_gdt[];

static struct {
  uint64_t vector, error_code, cr2, rip;
  unsigned count;
} last;

/* Faults inside probes.S come back as PROBE_FAULTED; anything else is a real crash. */
static int hook(struct pvkvm_trap_frame *f) {
  if (f->rip < (uintptr_t)probes_start || f->rip >= (uintptr_t)probes_end) return 0;
  last.vector = f->vector;
  last.error_code = f->error_code;
  last.cr2 = pvkvm_trap_cr2();
  last.rip = f->rip;
  last.count++;
  f->rip = (uintptr_t)probe_faulted;
  return 1;
}

static void expect_page_fault(const char *what, uint64_t got, uintptr_t addr, uint64_t err) {
  printf("%s %#lx: %s", what, (unsigned long)addr, got == PROBE_FAULTED ? "page fault" : "no fault!");
  if (got == PROBE_FAULTED) printf(", error code %#lx, cr2 %#lx\n", last.error_code, last.cr2);
  else printf(" (read %#lx)\n", got);
  CHECK_EQ(got, PROBE_FAULTED);
  CHECK_EQ(last.vector, 14);
  CHECK_EQ(last.cr2, addr);
  CHECK_EQ(last.error_code & (PF_P | PF_W | PF_U), err);
}

static void kernel_pages(void) {
  static volatile uint64_t mine = 0x1122334455667788ull;
  CHECK_EQ(probe_read(&mine), 0x1122334455667788ull); /* user pages work */
  CHECK_EQ(probe_write(&mine, 7), 0);
  CHECK_EQ(mine, 7);
  uintptr_t page = (uintptr_t)pvkvm_hypercall_page;
  expect_page_fault("read the hypercall page", probe_read(pvkvm_hypercall_page), page, PF_P | PF_U);
  expect_page_fault("write the hypercall page", probe_write(pvkvm_hypercall_page, 0xc3), page, PF_P | PF_W | PF_U);
  expect_page_fault("write the GDT", probe_write(pvkvm_gdt, 0), (uintptr_t)pvkvm_gdt, PF_P | PF_W | PF_U);
  expect_page_fault("read the kernel's code", probe_read((const void *)(uintptr_t)pvkvm_kcall_direct),
                    (uintptr_t)pvkvm_kcall_direct, PF_P | PF_U);
  expect_page_fault("read NULL", probe_read(NULL), 0, PF_P | PF_U);
  expect_page_fault("read the local APIC", probe_read((const void *)LAPIC_BASE), LAPIC_BASE, PF_P | PF_U);
  /* ... while the special pages next to it are user code's (the console ring). */
  uint64_t pfn = 0;
  if (pvkvm_hvm_get_param(HVM_PARAM_CONSOLE_PFN, &pfn) == 0 && pfn)
    CHECK(probe_read((const void *)(uintptr_t)(pfn << 12)) != PROBE_FAULTED);
}

static void own_hypercalls(void) {
  printf("direct event-channel sends: %s\n", pvkvm_evtchn_send_port ? "on" : "off");
  console_flush();
  /* Closed, the trap port faults. (Printing sends on the console's port, which on pvkvm needs
   * the four ports around it open: look at the results once it is open again.) */
  CHECK_EQ(pvkvm_ioperm(PVKVM_HYPERCALL_TRAP_PORT, 1, 0), 0);
  long closed = probe_raw_hypercall();
  uint64_t closed_vector = last.vector;
  CHECK_EQ(pvkvm_ioperm(PVKVM_HYPERCALL_TRAP_PORT, 1, 1), 0);
  long open = probe_raw_hypercall();
  if (!pvkvm_evtchn_send_port) CHECK_EQ(pvkvm_ioperm(PVKVM_HYPERCALL_TRAP_PORT, 1, 0), 0);
  printf("hypercall by the trap port, port closed: %s (vector %lu)\n",
         closed == (long)PROBE_FAULTED ? "fault" : "no fault!", closed_vector);
  CHECK_EQ(closed, (long)PROBE_FAULTED);
  CHECK_EQ(closed_vector, 13);
  printf("hypercall by the trap port, port open: %ld\n", open);
  CHECK_EQ(open, -XEN_EPERM);
  /* Through the gate the same call works. */
  long v = HYPERVISOR_xen_version(XENVER_version, NULL);
  printf("xen_version through the kernel: %ld.%ld\n", v >> 16, v & 0xffff);
  CHECK(v > 0);
  CHECK_EQ(probe_cli(), PROBE_FAULTED);
  CHECK_EQ(last.vector, 13);
}

static void kernel_refuses(void) {
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, pvkvm_hypercall_page), -XEN_EFAULT);
  CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 16, (const char *)pvkvm_gdt), -XEN_EFAULT);
  struct xen_add_to_physmap x = {.domid = DOMID_SELF, .space = XENMAPSPACE_shared_info};
  x.gpfn = (uintptr_t)pvkvm_hypercall_page >> 12;
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x), -XEN_EPERM);
  struct vcpu_hvm_context ctx;
  memset(&ctx, 0, sizeof(ctx));
  CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EPERM);
  CHECK_EQ(pvkvm_ioperm(0x20, 2, 1), -XEN_EPERM); /* the PIC */
  CHECK_EQ(pvkvm_ioperm(0xcf8, 8, 1), -XEN_EPERM); /* PCI configuration */
  CHECK_EQ(pvkvm_string_io(PVKVM_SIO_IN | PVKVM_SIO_BYTE, XEN_HVM_DEBUGCONS_IOPORT, pvkvm_gdt, 1), -XEN_EFAULT);
  /* A multicall's entries are checked one by one: the bad one fails, the others run. */
  struct multicall_entry mc[3];
  memset(mc, 0, sizeof(mc));
  mc[0].op = __HYPERVISOR_xen_version;
  mc[1].op = __HYPERVISOR_xen_version;
  mc[1].args[0] = XENVER_extraversion;
  mc[1].args[1] = (uintptr_t)pvkvm_hypercall_page;
  mc[2].op = __HYPERVISOR_xen_version;
  CHECK_EQ(HYPERVISOR_multicall(mc, 3), 0);
  CHECK(mc[0].result > 0);
  CHECK_EQ((long)mc[1].result, -XEN_EFAULT);
  CHECK_EQ(mc[2].result, mc[0].result);
}

static uint8_t balloon_page[2][4096] __attribute__((aligned(4096)));
static uint64_t extents[4];

static long reservation(unsigned long cmd, const uint64_t *list, unsigned n, unsigned order) {
  struct xen_memory_reservation r = {0};
  r.extent_start = (uint64_t)(uintptr_t)list;
  r.nr_extents = n;
  r.extent_order = order;
  r.domid = DOMID_SELF;
  return hypercall2(__HYPERVISOR_memory_op, cmd, (unsigned long)&r);
}

static void kernel_frames(void) {
  uint64_t kframe = (uintptr_t)pvkvm_hypercall_page >> 12, gdt = (uintptr_t)pvkvm_gdt >> 12;
  uint64_t mine = (uintptr_t)balloon_page[0] >> 12;
  struct xen_memory_domain self = {.domid = DOMID_SELF};
  long pages = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
  CHECK(pages > 0);
  /* A user frame goes and comes back, from CPL 3. */
  balloon_page[0][0] = 0x5a;
  extents[0] = mine;
  CHECK_EQ(reservation(XENMEM_decrease_reservation, extents, 1, 0), 1);
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), pages - 1);
  CHECK_EQ(reservation(XENMEM_populate_physmap, extents, 1, 0), 1);
  CHECK_EQ(balloon_page[0][0], 0);
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), pages);
  /* The kernel's frames: the hypercall page, the GDT (page tables alike), its pvkvm_cpu. */
  extents[0] = kframe;
  CHECK_EQ(reservation(XENMEM_decrease_reservation, extents, 1, 0), -XEN_EPERM);
  CHECK_EQ(reservation(XENMEM_populate_physmap, extents, 1, 0), -XEN_EPERM);
  extents[0] = gdt;
  CHECK_EQ(reservation(XENMEM_populate_physmap, extents, 1, 0), -XEN_EPERM);
  extents[0] = 0; /* an extent of 2^9 frames from 0: the whole low page */
  CHECK_EQ(reservation(XENMEM_decrease_reservation, extents, 1, 9), -XEN_EPERM);
  extents[0] = (uintptr_t)&pvkvm_cpus[0] >> 12;
  CHECK_EQ(reservation(XENMEM_decrease_reservation, extents, 1, 0), -XEN_EPERM);
  /* A list with a kernel frame after a user one: the walk stops there, as Xen's would. */
  extents[0] = mine;
  extents[1] = kframe;
  CHECK_EQ(reservation(XENMEM_decrease_reservation, extents, 2, 0), 1);
  CHECK_EQ(reservation(XENMEM_populate_physmap, extents, 1, 0), 1);
  /* The continuation extent in the command's high bits does not get past the check. */
  extents[0] = mine;
  extents[1] = kframe;
  CHECK_EQ(reservation(XENMEM_decrease_reservation | (1ul << 6), extents, 2, 0), -XEN_EPERM);
  CHECK_EQ(reservation(XENMEM_populate_physmap | (1ul << 6), extents, 2, 0), -XEN_EPERM);
  CHECK_EQ(reservation(XENMEM_decrease_reservation | (2ul << 6), extents, 2, 0), 2); /* nothing left */
  /* The list itself in the kernel's memory. */
  CHECK_EQ(reservation(XENMEM_decrease_reservation, (const uint64_t *)pvkvm_hypercall_page, 1, 0), -XEN_EFAULT);
  /* The same calls through a multicall. */
  struct xen_memory_reservation r = {.extent_start = (uint64_t)(uintptr_t)extents, .nr_extents = 1, .domid = DOMID_SELF};
  extents[0] = kframe;
  struct multicall_entry mc[1];
  memset(mc, 0, sizeof(mc));
  mc[0].op = __HYPERVISOR_memory_op;
  mc[0].args[0] = XENMEM_decrease_reservation;
  mc[0].args[1] = (uintptr_t)&r;
  CHECK_EQ(HYPERVISOR_multicall(mc, 1), 0);
  CHECK_EQ((long)mc[0].result, -XEN_EPERM);
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &self), pages);
  /* FIFO event set-up on the kernel's frames (the calls would switch the domain to FIFO if they
   * went through; refused, it stays 2-level). */
  CHECK_EQ(evtchn_fifo_init_control(kframe, 0, 0, NULL), -XEN_EPERM);
  CHECK_EQ(evtchn_fifo_init_control(gdt, 0, 0, NULL), -XEN_EPERM);
  CHECK_EQ(evtchn_fifo_expand_array(kframe), -XEN_EPERM);
  struct evtchn_init_control ic = {.control_gfn = kframe};
  mc[0].op = __HYPERVISOR_event_channel_op;
  mc[0].args[0] = EVTCHNOP_init_control;
  mc[0].args[1] = (uintptr_t)&ic;
  CHECK_EQ(HYPERVISOR_multicall(mc, 1), 0);
  CHECK_EQ((long)mc[0].result, -XEN_EPERM);
  /* 0x100000000 | init_control is an unknown command to the hypervisor, not an unchecked one. */
  CHECK(hypercall2(__HYPERVISOR_event_channel_op, (1ul << 32) | EVTCHNOP_init_control, (unsigned long)&ic) != 0);
  printf("kernel frames: ballooning and FIFO set-up refused\n");
}

/* The start info is user memory: a rewrite must not steer the kernel's checks (hcfuzz seed 2). */
static void boot_info_rewritten(void) {
  struct hvm_start_info *si = (struct hvm_start_info *)pvkvm_start_info();
  REQUIRE(si != NULL);
  struct hvm_start_info saved = *si;
  uint64_t beyond_ram = pvkvm_ram_bytes() + (64ull << 20); /* not RAM: reads there are MMIO */
  si->memmap_paddr = beyond_ram;
  si->memmap_entries = 0x7fffffff;
  /* Calls the kernel copies structs in for, which it checks against RAM. */
  uint64_t mine = (uintptr_t)balloon_page[1] >> 12;
  extents[0] = mine;
  CHECK_EQ(reservation(XENMEM_decrease_reservation, extents, 1, 0), 1);
  CHECK_EQ(reservation(XENMEM_populate_physmap, extents, 1, 0), 1);
  struct multicall_entry mc[2];
  memset(mc, 0, sizeof(mc));
  struct xen_memory_reservation r = {.extent_start = (uint64_t)(uintptr_t)extents, .nr_extents = 1, .domid = DOMID_SELF};
  mc[0].op = __HYPERVISOR_memory_op;
  mc[0].args[0] = XENMEM_decrease_reservation;
  mc[0].args[1] = (uintptr_t)&r;
  mc[1].op = __HYPERVISOR_memory_op;
  mc[1].args[0] = XENMEM_populate_physmap;
  mc[1].args[1] = (uintptr_t)&r;
  CHECK_EQ(HYPERVISOR_multicall(mc, 2), 0);
  CHECK_EQ((long)mc[0].result, 1);
  CHECK_EQ((long)mc[1].result, 1);
  /* A struct beyond RAM is still refused: the kernel's map is the boot one, not the rewrite. */
  CHECK_EQ(hypercall2(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, (unsigned long)beyond_ram), -XEN_EFAULT);
  *si = saved;
  printf("boot info rewritten by user code: the kernel's checks unchanged\n");
}

int main(void) {
  REQUIRE(pvkvm_at_cpl3());
  printf("main at CPL 3; kernel-call gate: %s\n", pvkvm_kcall_syscall ? "syscall" : "int3");
  if (pvkvm_cmdline_has("crash")) {
    printf("reading a kernel address with no hook\n");
    console_flush();
    probe_read(pvkvm_hypercall_page);
    printf("still running after the fault?\n");
    test_exit(TEST_FAILURE);
  }
  pvkvm_set_trap_hook(hook);
  kernel_pages();
  REQUIRE_XEN();
  own_hypercalls();
  kernel_refuses();
  kernel_frames();
  boot_info_rewritten();
  pvkvm_set_trap_hook(NULL);
  printf("%u faults caught at CPL 3\n", last.count);
  test_done();
}
