/* start.c: main_entry (called by pvh_entry.S in long mode), start info, command line, memory map. */
#include <stdint.h>
#include <pvkvm/console.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include <pvkvm/traps.h>

_Static_assert(XEN_ELFNOTE_PHYS32_ENTRY == 18, "pvh_entry.S writes the PHYS32_ENTRY note as type 18");
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry layout");

void main_entry(struct hvm_start_info *si);

static const struct hvm_start_info *start_info;
static const char *cmdline = "";

/* Everything the loader gives us is identity-mapped (first 4 GiB); ignore anything beyond. */
static const void *phys_ptr(uint64_t paddr) {
  return paddr != 0 && paddr < (1ULL << 32) ? (const void *)(uintptr_t)paddr : NULL;
}

static void start_info_init(struct hvm_start_info *si) {
  if (!si) {
    printf("pvkvm: no hvm_start_info (EBX = 0)\n");
    return;
  }
  if ((uintptr_t)si >= (1ULL << 32) || si->magic != XEN_HVM_START_MAGIC_VALUE) {
    printf("pvkvm: bad hvm_start_info at %p (magic %#x)\n", (void *)si,
           (uintptr_t)si < (1ULL << 32) ? si->magic : 0);
    return;
  }
  start_info = si;
  const char *c = phys_ptr(si->cmdline_paddr);
  if (c) cmdline = c;
}

void main_entry(struct hvm_start_info *si) {
  pvkvm_traps_init();
  pvkvm_hypercall_init();
  start_info_init(si);
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
