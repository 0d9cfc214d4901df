/* xenver: every xen_version sub-op a domU may use. */
#include <pvkvm/pvkvm.h>

/* A string result: NUL-terminated inside its buffer, and NUL-padded up to the end. */
static void check_string(const char *what, const uint8_t *buf, size_t size) {
  size_t n = strnlen((const char *)buf, size);
  printf("%s: \"%.*s\"\n", what, (int)n, (const char *)buf);
  if (!CHECK(n < size)) return;
  for (size_t i = n; i < size; i++)
    if (buf[i] != 0) {
      printf("%s: byte %zu after the string is %#x\n", what, i, buf[i]);
      test_check_failed(__FILE__, __LINE__, "string result is NUL-padded");
      return;
    }
}

int main(void) {
  REQUIRE_XEN();
  long v = HYPERVISOR_xen_version(XENVER_version, NULL);
  printf("version: %ld.%ld\n", v >> 16, v & 0xffff);
  CHECK(v >= (3 << 16));

  static uint8_t buf[1024];
  memset(buf, 0xaa, sizeof(buf));
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, buf), 0);
  check_string("extraversion", buf, 16);
  CHECK_EQ(buf[16], 0xaa); /* nothing written beyond the 16 bytes */
  char extraversion[16];
  memcpy(extraversion, buf, sizeof(extraversion));

  static struct xen_compile_info ci;
  memset(&ci, 0xaa, sizeof(ci));
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_compile_info, &ci), 0);
  check_string("compiler", ci.compiler, sizeof(ci.compiler));
  check_string("compile_by", ci.compile_by, sizeof(ci.compile_by));
  check_string("compile_domain", ci.compile_domain, sizeof(ci.compile_domain));
  check_string("compile_date", ci.compile_date, sizeof(ci.compile_date));

  memset(buf, 0xaa, sizeof(buf));
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_capabilities, buf), 0);
  check_string("capabilities", buf, 1024);
  CHECK(buf[0] != 0);

  memset(buf, 0xaa, sizeof(buf));
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_changeset, buf), 0);
  check_string("changeset", buf, 64);

  struct xen_platform_parameters pp = {.virt_start = 0x5a5a5a5a5a5a5a5aULL};
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_platform_parameters, &pp), 0);
  printf("platform_parameters: virt_start %#llx\n", (unsigned long long)pp.virt_start);

  struct xen_feature_info fi = {.submap_idx = 0, .submap = 0};
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &fi), 0);
  printf("features[0]: %#x\n", fi.submap);
  CHECK(fi.submap & (1u << XENFEAT_auto_translated_physmap));
  CHECK(fi.submap & (1u << XENFEAT_hvm_callback_vector));
  fi.submap_idx = 1;
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &fi), -XEN_EINVAL);

  CHECK_EQ(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);

  memset(buf, 0xaa, sizeof(buf));
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_guest_handle, buf), 0);
  printf("guest_handle:");
  for (int i = 0; i < 16; i++) printf(" %02x", buf[i]);
  printf("\n");
  CHECK_EQ(buf[16], 0xaa);

  memset(buf, 0xaa, sizeof(buf));
  CHECK_EQ(HYPERVISOR_xen_version(XENVER_commandline, buf), 0);
  check_string("commandline", buf, 1024);

  /* Variable-length buffers: a NULL argument asks for the size. */
  static const unsigned varbuf_ops[] = {XENVER_build_id, XENVER_extraversion2,
                                        XENVER_capabilities2, XENVER_changeset2,
                                        XENVER_commandline2};
  for (unsigned i = 0; i < sizeof(varbuf_ops) / sizeof(varbuf_ops[0]); i++) {
    long size = HYPERVISOR_xen_version(varbuf_ops[i], NULL);
    printf("varbuf op %u: size %ld\n", varbuf_ops[i], size);
    CHECK(size >= 0);
  }
  /* extraversion2 returns the same text as extraversion, without a NUL. */
  struct xen_varbuf *vb = (struct xen_varbuf *)buf;
  memset(buf, 0xaa, sizeof(buf));
  vb->len = sizeof(buf) - sizeof(*vb);
  long n = HYPERVISOR_xen_version(XENVER_extraversion2, vb);
  CHECK_EQ(n, strnlen(extraversion, sizeof(extraversion)));
  if (n >= 0 && n <= 16) CHECK(memcmp(buf + sizeof(*vb), extraversion, (size_t)n) == 0);

  test_done();
}
