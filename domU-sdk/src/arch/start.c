/* start.c: where main's side of the SDK starts (pvkvm_user_start, entered by the kernel at the
 * chosen level), and the start info, command line and memory map. */
#include <stdint.h>
#include <pvkvm/console.h>
#include <pvkvm/cpu.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry layout");

/* What a guest gets unless it says otherwise (PVKVM_SDK_MODE) or the command line does. */
__attribute__((weak)) const int pvkvm_sdk_mode_default = PVKVM_MODE_USER;

/* main's stack on vCPU 0 (user memory, so main may run at CPL 3; the size is the kernel's
 * UBOOT_STACK_SIZE). */
uint8_t pvkvm_uboot_stack[65536] __attribute__((aligned(16)));

void pvkvm_user_start(void) __attribute__((noreturn));

static const struct hvm_start_info *start_info;
static const char *cmdline = "";

/* Everything the loader gives us is identity-mapped (first 4 GiB); ignore anything beyond. */
static const void *phys_ptr(uint64_t paddr) {
  return paddr != 0 && paddr < (1ULL << 32) ? (const void *)(uintptr_t)paddr : NULL;
}

/*
 * The loader's structures are user code's to read, but a loader may put them in low memory (QEMU
 * does), which is on the kernel's supervisor-only page below __user_start (link.ld). The kernel
 * runs this before anything runs at CPL 3, so it copies what lies there into user memory and
 * points the copy of the start info at the copies. (pvkvm puts them above the image: no copy.)
 */
extern char __user_start[];
static struct hvm_start_info si_copy;
static char cmdline_copy[4096];
static struct hvm_memmap_table_entry memmap_copy[128];
static struct hvm_modlist_entry modlist_copy[32];

static int hidden(uint64_t paddr) { return paddr != 0 && paddr < (uintptr_t)__user_start; }

static uint64_t copy_out(void *dst, size_t cap, uint64_t src, size_t n) {
  if (n > cap) n = cap;
  memcpy(dst, (const void *)(uintptr_t)src, n);
  return (uintptr_t)dst;
}

static struct hvm_start_info *user_visible(struct hvm_start_info *si) {
  if (!hidden((uintptr_t)si) && !hidden(si->cmdline_paddr) && !hidden(si->memmap_paddr) &&
      !hidden(si->modlist_paddr))
    return si;
  si_copy = *si;
  if (hidden(si->cmdline_paddr)) {
    const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
    si_copy.cmdline_paddr = copy_out(cmdline_copy, sizeof(cmdline_copy) - 1, si->cmdline_paddr,
                                     strnlen(c, sizeof(cmdline_copy) - 1));
  }
  if (hidden(si->memmap_paddr)) {
    if (si_copy.memmap_entries > 128) si_copy.memmap_entries = 128;
    si_copy.memmap_paddr = copy_out(memmap_copy, sizeof(memmap_copy), si->memmap_paddr,
                                    si_copy.memmap_entries * sizeof(memmap_copy[0]));
  }
  if (hidden(si->modlist_paddr)) {
    if (si_copy.nr_modules > 32) si_copy.nr_modules = 32;
    si_copy.modlist_paddr = copy_out(modlist_copy, sizeof(modlist_copy), si->modlist_paddr,
                                     si_copy.nr_modules * sizeof(modlist_copy[0]));
  }
  return &si_copy;
}

void pvkvm_start_info_init(struct hvm_start_info *si) {
  if (!si) {
    printf("pvkvm: no hvm_start_info (EBX = 0)\n");
    return;
  }
  if ((uintptr_t)si >= (1ULL << 32) || si->magic != XEN_HVM_START_MAGIC_VALUE) {
    printf("pvkvm: bad hvm_start_info at %p (magic %#x)\n", (void *)si,
           (uintptr_t)si < (1ULL << 32) ? si->magic : 0);
    return;
  }
  si = user_visible(si);
  start_info = si;
  const char *c = phys_ptr(si->cmdline_paddr);
  if (c) cmdline = c;
}

/* The kernel (src/kernel/kmain.c) has set up the machine and parsed the start info. */
void pvkvm_user_start(void) {
  int rc = main();
  console_flush();
  pvkvm_shutdown(rc == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
}

const struct hvm_start_info *pvkvm_start_info(void) { return start_info; }

const char *pvkvm_cmdline(void) { return cmdline; }

/* Find `key` as a whole word; returns a pointer just past the key, or NULL. */
static const char *find_key(const char *key) {
  size_t klen = strlen(key);
  const char *p = cmdline;
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) break;
    const char *word = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    if ((size_t)(p - word) >= klen && strncmp(word, key, klen) == 0 &&
        (word[klen] == '=' || word + klen == p))
      return word + klen;
  }
  return NULL;
}

int pvkvm_cmdline_get(const char *key, char *buf, size_t len) {
  const char *v = find_key(key);
  if (!v) return -1;
  if (*v == '=') v++;
  size_t n = 0;
  while (v[n] && v[n] != ' ' && v[n] != '\t') n++;
  if (len > 0) {
    size_t c = n < len - 1 ? n : len - 1;
    memcpy(buf, v, c);
    buf[c] = '\0';
  }
  return (int)n;
}

unsigned long long pvkvm_cmdline_ull(const char *key, unsigned long long dflt) {
  const char *v = find_key(key);
  if (!v || *v != '=') return dflt;
  const char *end;
  unsigned long long n = strtoull(v + 1, &end, 0);
  if (end == v + 1 || (*end && *end != ' ' && *end != '\t')) return dflt;
  return n;
}

int pvkvm_cmdline_has(const char *key) { return find_key(key) != NULL; }

unsigned pvkvm_memmap(const struct hvm_memmap_table_entry **entries) {
  *entries = NULL;
  if (!start_info || start_info->version < 1 || start_info->memmap_entries == 0) return 0;
  *entries = phys_ptr(start_info->memmap_paddr);
  return *entries ? start_info->memmap_entries : 0;
}

uint64_t pvkvm_ram_bytes(void) {
  const struct hvm_memmap_table_entry *e;
  unsigned n = pvkvm_memmap(&e);
  uint64_t total = 0;
  for (unsigned i = 0; i < n; i++)
    if (e[i].type == XEN_HVM_MEMMAP_TYPE_RAM) total += e[i].size;
  return total;
}
