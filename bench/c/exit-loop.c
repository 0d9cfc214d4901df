/*
 * exit-loop.c: the C baseline for `bench hypercall` — boots a domU-sdk PVH guest image on KVM with
 * the same VM set-up and KVM_RUN loop as pvkvm (sync_regs, no GET_REGS), minus TypeScript/koffi.
 *
 * Usage: exit-loop [-m MiB] [-s SYNC] [-q] KERNEL.elf [CMDLINE]
 *   -m MiB   guest RAM (default 64, as pvkvm run)
 *   -s SYNC  kvm_valid_regs bits (default 3 = REGS|SREGS, as pvkvm); 1 = REGS only
 *   -q       no statistics line on stderr
 * The guest console goes to stdout; the exit status is the SCHEDOP_shutdown reason (0 = poweroff),
 * or 3 on a fault / unexpected exit.
 *
 * Mirrors, in order: hypervisor/domain/vm-setup.ts (TSS, irqchip, user-space MSR filter, memfd
 * slots), boot/elf.ts + boot/pvh-layout.ts (PT_LOAD at p_paddr, hvm_start_info v1 after the image),
 * vcpu/xen-cpuid.ts (host CPUID minus 0x4000xxxx plus the Xen leaves), boot/cpu-state.ts (PVH entry
 * state), hypercall/page.ts (the hypercall page) and vcpu/exit-handler.ts (the exit loop).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096ULL
#define MIB (1024ULL * 1024ULL)
#define TSS_ADDR 0xfffbd000UL
#define SPECIAL_BASE 0xfeff8000ULL
#define SPECIAL_PAGES 8
#define HYPERCALL_MSR 0x40000000U
#define TRAP_PORT 0xe8
#define DEBUGCON_PORT 0xe9
#define XEN_BASE 0x40000000U
#define XEN_MAJOR 4
#define XEN_MINOR 17
#define HVM_START_MAGIC 0x336ec578U
#define E820_RAM 1
#define E820_RESERVED 2
#define XEN_ENOSYS 38
#define XEN_EPERM 1
#define DOMID 1

enum { HC_xen_version = 17, HC_console_io = 18, HC_iret = 23, HC_sched_op = 29 };

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("exit-loop: ", stderr);
  vfprintf(stderr, fmt, ap);
  if (errno) fprintf(stderr, ": %s", strerror(errno));
  fputc('\n', stderr);
  va_end(ap);
  exit(3);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what) {
  errno = 0;
  int r = ioctl(fd, req, arg);
  if (r < 0) die("%s", what);
  return r;
}

static uint8_t *ram;
static uint64_t ram_bytes;

/* --- ELF: PT_LOAD at p_paddr, PHYS32 entry from the Xen note (type 18) --------------------------- */

static uint8_t *read_file(const char *path, size_t *len) {
  errno = 0;
  FILE *f = fopen(path, "rb");
  if (!f) die("open %s", path);
  struct stat st;
  if (fstat(fileno(f), &st) < 0) die("stat %s", path);
  uint8_t *buf = malloc(st.st_size);
  if (!buf || fread(buf, 1, st.st_size, f) != (size_t)st.st_size) die("read %s", path);
  fclose(f);
  *len = st.st_size;
  return buf;
}

static uint32_t find_entry_note(const uint8_t *p, uint64_t len) {
  uint64_t o = 0;
  while (o + 12 <= len) {
    uint32_t namesz, descsz, type;
    memcpy(&namesz, p + o, 4);
    memcpy(&descsz, p + o + 4, 4);
    memcpy(&type, p + o + 8, 4);
    uint64_t name = o + 12, desc = name + ((namesz + 3) & ~3U);
    if (namesz == 4 && memcmp(p + name, "Xen", 4) == 0 && type == 18) {
      uint64_t v = 0;
      memcpy(&v, p + desc, descsz == 8 ? 8 : 4);
      return (uint32_t)v;
    }
    o = desc + ((descsz + 3) & ~3U);
  }
  return UINT32_MAX;
}

static uint32_t load_elf(const uint8_t *img, size_t len, uint64_t *image_end) {
  const Elf64_Ehdr *eh = (const void *)img;
  if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64) {
    errno = 0;
    die("not an ELF64 image");
  }
  uint32_t entry = UINT32_MAX;
  *image_end = 0;
  for (int i = 0; i < eh->e_phnum; i++) {
    const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff + (uint64_t)i * eh->e_phentsize);
    if (ph->p_type == PT_LOAD) {
      if (ph->p_paddr + ph->p_memsz > ram_bytes) { errno = 0; die("segment %d does not fit in RAM", i); }
      memcpy(ram + ph->p_paddr, img + ph->p_offset, ph->p_filesz);
      memset(ram + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
      if (ph->p_paddr + ph->p_memsz > *image_end) *image_end = ph->p_paddr + ph->p_memsz;
    } else if (ph->p_type == PT_NOTE && entry == UINT32_MAX) {
      entry = find_entry_note(img + ph->p_offset, ph->p_filesz);
    }
  }
  if (entry == UINT32_MAX) { errno = 0; die("no XEN_ELFNOTE_PHYS32_ENTRY note"); }
  return entry;
}

/* --- hvm_start_info v1 after the image (never below 1 MiB), as pvh-layout.ts ------------------- */

struct start_info {
  uint32_t magic, version, flags, nr_modules;
  uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
  uint32_t memmap_entries, reserved;
};
struct memmap_entry {
  uint64_t addr, size;
  uint32_t type, reserved;
};
_Static_assert(sizeof(struct start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct memmap_entry) == 24, "hvm_memmap_table_entry");

static uint64_t write_start_info(uint64_t image_end, const char *cmdline) {
  uint64_t si = (image_end + PAGE - 1) & ~(PAGE - 1);
  if (si < MIB) si = MIB;
  uint64_t mm = (si + sizeof(struct start_info) + 7) & ~7ULL;
  uint64_t cl = mm + 2 * sizeof(struct memmap_entry);
  size_t cl_len = strlen(cmdline) + 1;
  if (cl + cl_len > ram_bytes) { errno = 0; die("no room for the start info"); }
  struct start_info s = {
      .magic = HVM_START_MAGIC, .version = 1, .cmdline_paddr = cl, .memmap_paddr = mm, .memmap_entries = 2,
  };
  struct memmap_entry m[2] = {
      {.addr = 0, .size = ram_bytes, .type = E820_RAM},
      {.addr = SPECIAL_BASE, .size = SPECIAL_PAGES * PAGE, .type = E820_RESERVED},
  };
  memcpy(ram + si, &s, sizeof(s));
  memcpy(ram + mm, m, sizeof(m));
  memcpy(ram + cl, cmdline, cl_len);
  return si;
}

/* --- CPUID: the host's minus 0x4000xxxx, plus the Xen leaves (xen-cpuid.ts) ---------------------- */

static void tsc_scale(uint32_t khz, uint32_t *mul, int *shift) {
  int s = 0;
  unsigned __int128 hz = (unsigned __int128)khz * 1000, target = 1000000000ULL;
  while (hz <= target) { hz <<= 1; s++; }
  while (hz > 2 * target) { hz >>= 1; s--; }
  *mul = (uint32_t)((target << 32) / hz);
  *shift = s;
}

static void set_cpuid(int kvm, int vcpu, uint32_t tsc_khz) {
  int max = 256;
  struct kvm_cpuid2 *host;
  for (;;) {
    host = calloc(1, sizeof(*host) + max * sizeof(struct kvm_cpuid_entry2));
    host->nent = max;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, host) == 0) break;
    if (errno != E2BIG) die("KVM_GET_SUPPORTED_CPUID");
    free(host);
    max *= 2;
  }
  struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (host->nent + 8) * sizeof(struct kvm_cpuid_entry2));
  unsigned n = 0;
  for (unsigned i = 0; i < host->nent; i++) {
    struct kvm_cpuid_entry2 e = host->entries[i];
    if (e.function >= XEN_BASE && e.function <= XEN_BASE + 0xffff) continue;
    if (e.function == 1) {
      e.ecx |= 1U << 31;              /* hypervisor present */
      e.ebx = (e.ebx & 0x00ffffff);   /* initial APIC id 0 */
    }
    if (e.function == 0xb || e.function == 0x1f) e.edx = 0;
    c->entries[n++] = e;
  }
  uint32_t mul;
  int shift;
  tsc_scale(tsc_khz, &mul, &shift);
#define LEAF(off, idx, flg, a, b, cc, d) \
  c->entries[n++] = (struct kvm_cpuid_entry2){.function = XEN_BASE + (off), .index = (idx), .flags = (flg), \
                                              .eax = (a), .ebx = (b), .ecx = (cc), .edx = (d)}
  LEAF(0, 0, 0, XEN_BASE + 5, 0x566e6558, 0x65584d4d, 0x4d4d566e); /* "XenVMMXenVMM" */
  LEAF(1, 0, 0, (XEN_MAJOR << 16) | XEN_MINOR, 0, 0, 0);
  LEAF(2, 0, 0, 1, HYPERCALL_MSR, 0, 0);
  LEAF(3, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 1 << 1, 0, tsc_khz, 0);
  LEAF(3, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, mul, (uint32_t)shift & 0xff);
  LEAF(3, 2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, tsc_khz, 0, 0, 0);
  LEAF(4, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, (1 << 3) | (1 << 4), 0, DOMID, 0);
  LEAF(5, 0, 0, 0, 0, 0, 0);
#undef LEAF
  c->nent = n;
  xioctl(vcpu, KVM_SET_CPUID2, c, "KVM_SET_CPUID2");
  free(c);
  free(host);
}

/* --- PVH entry state (cpu-state.ts) ---------------------------------------------------------------- */

static void set_entry_state(int vcpu, uint32_t entry, uint64_t start_info) {
  struct kvm_sregs s;
  xioctl(vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
  struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 0xb, .present = 1,
                             .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1};
  struct kvm_segment data = code;
  data.selector = 0x10;
  data.type = 0x3;
  struct kvm_segment tss = code;
  tss.selector = 0x18;
  tss.s = 0;
  tss.limit = 0x67;
  tss.g = 0;
  s.cs = code;
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  s.tr = tss;
  s.cr0 = 0x11;
  s.cr3 = 0;
  s.cr4 = 0;
  s.efer = 0;
  xioctl(vcpu, KVM_SET_SREGS, &s, "KVM_SET_SREGS");
  struct kvm_regs r = {.rip = entry, .rbx = start_info, .rflags = 2};
  xioctl(vcpu, KVM_SET_REGS, &r, "KVM_SET_REGS");
}

/* --- The hypercall page (hypercall/page.ts) ------------------------------------------------------ */

static void fill_hypercall_page(uint8_t *p) {
  memset(p, 0xcc, PAGE);
  for (unsigned nr = 0; nr < 128; nr++) {
    uint8_t *s = p + nr * 32;
    if (nr == HC_iret) {
      s[0] = 0x0f;
      s[1] = 0x0b;
      continue;
    }
    const uint8_t stub[8] = {0xb8, nr & 0xff, (nr >> 8) & 0xff, 0, 0, 0xe6, TRAP_PORT, 0xc3};
    memcpy(s, stub, sizeof(stub));
  }
}

/* --- Hypercalls: the minimal dispatcher ---------------------------------------------------------- */

static int shutdown_reason = -1;
static unsigned long long n_hypercalls;

static int64_t hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2) {
  n_hypercalls++;
  switch (nr) {
    case HC_xen_version:
      return (uint32_t)a0 == 0 ? (XEN_MAJOR << 16) | XEN_MINOR : -XEN_ENOSYS;
    case HC_console_io:
      if ((uint32_t)a0 != 0) return -XEN_ENOSYS;
      if (a2 > ram_bytes || a1 > ram_bytes - a2) return -14; /* EFAULT */
      fwrite(ram + a2, 1, a1, stdout);
      return 0;
    case HC_sched_op:
      if ((uint32_t)a0 != 2) return -XEN_ENOSYS; /* SCHEDOP_shutdown */
      if (a1 + 4 > ram_bytes) return -14;
      uint32_t reason;
      memcpy(&reason, ram + a1, 4);
      shutdown_reason = (int)reason;
      return 0;
    default:
      return -XEN_ENOSYS;
  }
}

/* --- main: VM set-up, then the KVM_RUN loop -------------------------------------------------------- */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  uint64_t mib = 64, sync = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
  int quiet = 0, opt;
  while ((opt = getopt(argc, argv, "m:s:q")) != -1) {
    if (opt == 'm') mib = strtoull(optarg, NULL, 0);
    else if (opt == 's') sync = strtoull(optarg, NULL, 0);
    else if (opt == 'q') quiet = 1;
    else { fprintf(stderr, "usage: exit-loop [-m MiB] [-s SYNC] [-q] KERNEL.elf [CMDLINE]\n"); return 2; }
  }
  if (optind >= argc) { fprintf(stderr, "usage: exit-loop [-m MiB] [-s SYNC] [-q] KERNEL.elf [CMDLINE]\n"); return 2; }
  const char *kernel = argv[optind];
  const char *cmdline = optind + 1 < argc ? argv[optind + 1] : "";
  ram_bytes = mib * MIB;
  static char outbuf[1 << 16];
  setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

  errno = 0;
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("open /dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");
  if (ioctl(vm, KVM_SET_TSS_ADDR, TSS_ADDR) < 0) die("KVM_SET_TSS_ADDR");
  if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP");
  struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR, .args = {KVM_MSR_EXIT_REASON_FILTER}};
  xioctl(vm, KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP(X86_USER_SPACE_MSR)");
  uint8_t deny = 0; /* 8 MSRs from 0x40000000, all bits clear: exit to user space */
  struct kvm_msr_filter filter = {.flags = KVM_MSR_FILTER_DEFAULT_ALLOW};
  filter.ranges[0] = (struct kvm_msr_filter_range){
      .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, .nmsrs = 8, .base = HYPERCALL_MSR, .bitmap = &deny};
  xioctl(vm, KVM_X86_SET_MSR_FILTER, &filter, "KVM_X86_SET_MSR_FILTER");

  uint64_t mem_bytes = ram_bytes + SPECIAL_PAGES * PAGE;
  int memfd = memfd_create("exit-loop", MFD_CLOEXEC);
  if (memfd < 0 || ftruncate(memfd, mem_bytes) < 0) die("memfd");
  ram = mmap(NULL, mem_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (ram == MAP_FAILED) die("mmap guest memory");
  struct kvm_userspace_memory_region slot0 = {
      .slot = 0, .guest_phys_addr = 0, .memory_size = ram_bytes, .userspace_addr = (uintptr_t)ram};
  xioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot0, "KVM_SET_USER_MEMORY_REGION(0)");
  struct kvm_userspace_memory_region slot1 = {.slot = 1, .guest_phys_addr = SPECIAL_BASE,
                                              .memory_size = SPECIAL_PAGES * PAGE,
                                              .userspace_addr = (uintptr_t)(ram + ram_bytes)};
  xioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot1, "KVM_SET_USER_MEMORY_REGION(1)");

  size_t img_len;
  uint8_t *img = read_file(kernel, &img_len);
  uint64_t image_end;
  uint32_t entry = load_elf(img, img_len, &image_end);
  uint64_t si = write_start_info(image_end, cmdline);

  errno = 0;
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");
  int khz = ioctl(vcpu, KVM_GET_TSC_KHZ, 0);
  if (khz <= 0) khz = 1;
  set_cpuid(kvm, vcpu, (uint32_t)khz);
  set_entry_state(vcpu, entry, si);
  run->kvm_valid_regs = sync;

  struct kvm_regs *regs = &run->s.regs.regs;
  struct kvm_sregs *sregs = &run->s.regs.sregs;
  unsigned long long exits = 0;
  double t0 = now_ms();
  int status = -1;
  while (status < 0) {
    int r = ioctl(vcpu, KVM_RUN, 0);
    run->kvm_dirty_regs = 0;
    if (r < 0) {
      if (errno == EINTR) continue;
      die("KVM_RUN");
    }
    exits++;
    switch (run->exit_reason) {
      case KVM_EXIT_IO: {
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        if (run->io.port == TRAP_PORT && run->io.direction == KVM_EXIT_IO_OUT) {
          /* 64-bit convention only in long mode with a 64-bit CS (hypercall-trap.ts). */
          /* Without synced sregs (-s 1) assume the 64-bit convention of domU-sdk guests. */
          int have_sregs = (sync & KVM_SYNC_X86_SREGS) != 0;
          int mode64 = !have_sregs || ((sregs->efer & (1 << 10)) && sregs->cs.l);
          uint64_t nr = mode64 ? regs->rax : (uint32_t)regs->rax;
          int64_t ret;
          if ((have_sregs && sregs->ss.dpl != 0) || (regs->rflags & (1 << 17)))
            ret = -XEN_EPERM;
          else if (mode64)
            ret = hypercall(nr, regs->rdi, regs->rsi, regs->rdx);
          else
            ret = hypercall(nr, (uint32_t)regs->rbx, (uint32_t)regs->rcx, (uint32_t)regs->rdx);
          regs->rax = mode64 ? (uint64_t)ret : (uint32_t)ret;
          run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
          if (shutdown_reason >= 0) status = shutdown_reason;
        } else if (run->io.port == DEBUGCON_PORT) {
          for (uint32_t i = 0; i < run->io.count; i++) {
            if (run->io.direction == KVM_EXIT_IO_OUT) putchar(data[i * run->io.size]);
            else memset(data + i * run->io.size, 0, run->io.size), data[i * run->io.size] = 0xe9;
          }
        } else if (run->io.direction == KVM_EXIT_IO_IN) {
          memset(data, 0xff, (size_t)run->io.size * run->io.count);
        }
        break;
      }
      case KVM_EXIT_X86_WRMSR: {
        uint64_t v = run->msr.data, gpa = v & ~0xfffULL;
        int ok = run->msr.index == HYPERCALL_MSR && (v & 0xfff) == 0 && gpa + PAGE <= ram_bytes;
        if (ok) fill_hypercall_page(ram + gpa);
        run->msr.error = !ok;
        break;
      }
      case KVM_EXIT_X86_RDMSR:
        run->msr.error = run->msr.index != HYPERCALL_MSR;
        run->msr.data = 0;
        break;
      case KVM_EXIT_MMIO:
        if (!run->mmio.is_write) memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
        break;
      case KVM_EXIT_HLT:
      case KVM_EXIT_INTR:
        break;
      case KVM_EXIT_SYSTEM_EVENT:
        status = 0;
        break;
      case KVM_EXIT_SHUTDOWN:
        fflush(stdout);
        fprintf(stderr, "exit-loop: guest triple-faulted at rip 0x%llx\n", (unsigned long long)regs->rip);
        status = 256;
        break;
      default:
        fflush(stdout);
        fprintf(stderr, "exit-loop: unhandled KVM exit reason %u at rip 0x%llx\n", run->exit_reason,
                (unsigned long long)regs->rip);
        status = 256;
        break;
    }
  }
  double t1 = now_ms();
  fflush(stdout);
  if (!quiet)
    fprintf(stderr, "exit-loop: exits=%llu hypercalls=%llu tsc_khz=%d sync=%llu run_ms=%.1f us_per_exit=%.2f\n", exits,
            n_hypercalls, khz, (unsigned long long)sync, t1 - t0, (t1 - t0) * 1e3 / (exits ? exits : 1));
  return status > 255 ? 3 : status;
}
