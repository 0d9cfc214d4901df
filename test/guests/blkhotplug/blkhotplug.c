/* blkhotplug: vbd hot-plug from the guest's side — reads its first disk, waits for a second one
 * (pvkvm block-attach), reads it, waits until the toolstack takes it away (block-detach), closes
 * it cleanly and checks it is gone from device/vbd. Each step prints one line the test waits for. */
#include <pvkvm/pvkvm.h>

#define FAIL(...) do { printf(__VA_ARGS__); printf("\n"); test_exit(TEST_FAILURE); } while (0)
#define WAIT_NS (120ULL * NSEC_PER_SEC)

static char sector[4096] __attribute__((aligned(4096)));

/* Sector 0 of a disk as text (up to the first NUL or newline). */
static int show(struct block_dev *d, const char *what) {
  int rc = block_read(d, 0, 1, sector);
  if (rc != 0) {
    printf("%s: read failed (%d)\n", what, rc);
    return rc;
  }
  unsigned n = 0;
  while (n < 64 && sector[n] != 0 && sector[n] != '\n') n++;
  printf("%s says: %.*s\n", what, (int)n, sector);
  return 0;
}

int main(void) {
  struct blkfront_dev *first, *second;
  int rc = blkfront_open(0, &first);
  if (rc != 0) FAIL("opening disk 0: %d", rc);
  if (show(blkfront_block(first), "disk 0") != 0) FAIL("disk 0");
  printf("waiting for a second disk\n");
  rc = block_wait_present(1, WAIT_NS);
  if (rc != 0) FAIL("no second disk: %d", rc);
  rc = blkfront_open(1, &second);
  if (rc != 0) FAIL("opening disk 1: %d", rc);
  printf("disk 1 attached: %s, %llu sectors\n", blkfront_get_info(second)->nodename,
         (unsigned long long)blkfront_get_info(second)->sectors);
  if (show(blkfront_block(second), "disk 1") != 0) FAIL("disk 1");
  printf("waiting for disk 1 to be removed\n");
  rc = blkfront_wait_removal(second, WAIT_NS);
  if (rc != 0) FAIL("disk 1 was not removed: %d", rc);
  rc = blkfront_close(second);
  printf("disk 1 removed; closed it: %d\n", rc);
  /* The toolstack removes the device once we are Closed. */
  for (int i = 0; i < 2000 && blkfront_list(NULL, 0) > 1; i++) pvkvm_sleep_ns(NSEC_PER_SEC / 100);
  printf("vbds left: %d\n", blkfront_list(NULL, 0));
  if (show(blkfront_block(first), "disk 0 again") != 0) FAIL("disk 0 after the unplug");
  blkfront_close(first);
  /* Stay up: the test reads the domain's saved settings, then destroys it. */
  test_result(TEST_SUCCESS);
  for (;;) pvkvm_sleep_ns(NSEC_PER_SEC);
}
