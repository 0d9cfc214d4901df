/*
 * oracle32.c: answers a 32-bit caller must get whatever the fuzzed calls did before (abi=32),
 * checked between them: the same as the 64-bit call gives, with upper halves in every register
 * (which the hypervisor must drop, the call number's too), the i386 layouts written back at their
 * size. A difference is a wrong answer, reported and counted (the run then fails).
 */
#include "hcfuzz.h"

static long hc32(struct fuzzer *f, unsigned nr, uint32_t a1, uint32_t a2, uint32_t a3, int raw) {
  uint64_t r[6] = {nr, a1, a2, a3, 0x5a5a5a5a, 0x5a5a5a5a};
  for (int j = 0; j < 6; j++) r[j] |= (rnd(f) | 1) << 32;
  return hc32_call(raw ? (uint64_t)(uintptr_t)hc32_trap : pvkvm_hypercall_stub(nr), r);
}

static unsigned wrong(unsigned vcpu, const char *what, long got, long want) {
  printf("hcfuzz: v%u WRONG ANSWER %s: %ld (%#lx), expected %ld (%#lx)\n", vcpu, what, got, got, want, want);
  return 1;
}

unsigned oracle32(struct fuzzer *f) {
  unsigned bad = 0;
  int raw = (int)below(f, 2);
  long v64 = HYPERVISOR_xen_version(XENVER_version, NULL);
  long v32 = hc32(f, __HYPERVISOR_xen_version, XENVER_version, 0, 0, raw);
  if (v32 != v64) bad += wrong(f->vcpu, "xen_version(version)", v32, v64);
  long pg = hc32(f, __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0, raw);
  if (pg != 4096) bad += wrong(f->vcpu, "xen_version(pagesize)", pg, 4096);

  long top64 = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);
  long top32 = hc32(f, __HYPERVISOR_memory_op, XENMEM_maximum_ram_page, 0, 0, raw);
  if (top32 != top64) bad += wrong(f->vcpu, "memory_op(maximum_ram_page)", top32, top64);

  long up = hc32(f, __HYPERVISOR_vcpu_op, VCPUOP_is_up, f->vcpu, 0, raw);
  if (up != 1) bad += wrong(f->vcpu, "vcpu_op(is_up, self)", up, 1);
  long none = hc32(f, __HYPERVISOR_vcpu_op, VCPUOP_is_up, (uint32_t)nvcpus, 0, raw);
  if (none != -XEN_ENOENT) bad += wrong(f->vcpu, "vcpu_op(is_up, past the last vCPU)", none, -XEN_ENOENT);

  /* i386 layouts: virt_start is 4 bytes; the memory map as the 64-bit call gives it. */
  uint32_t *s = slot(f);
  s[0] = s[1] = 0x5a5a5a5a;
  long pp = hc32(f, __HYPERVISOR_xen_version, XENVER_platform_parameters, (uint32_t)(uintptr_t)s, 0, raw);
  if (pp != 0 || s[0] != 0 || s[1] != 0x5a5a5a5a)
    bad += wrong(f->vcpu, "xen_version(platform_parameters): rc, then the word after virt_start", pp ? pp : (long)s[1], 0x5a5a5a5a);

  static struct e820entry map64[PVKVM_NR_CPUS][8];
  struct xen_memory_map mm = {.nr_entries = 8, .buffer = (uintptr_t)map64[f->vcpu]};
  struct compat_xen_memory_map *mm32 = slot(f);
  struct e820entry *map32 = (struct e820entry *)(mm32 + 1);
  mm32->nr_entries = 8;
  mm32->buffer = (uint32_t)(uintptr_t)map32;
  long m64 = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);
  long m32 = hc32(f, __HYPERVISOR_memory_op, XENMEM_memory_map, (uint32_t)(uintptr_t)mm32, 0, raw);
  if (m32 != m64) bad += wrong(f->vcpu, "memory_op(memory_map)", m32, m64);
  else if (m64 == 0 && (mm32->nr_entries != mm.nr_entries || memcmp(map32, map64[f->vcpu], mm.nr_entries * sizeof(*map32)) != 0))
    bad += wrong(f->vcpu, "memory_op(memory_map): entries", mm32->nr_entries, mm.nr_entries);
  return bad;
}
