/*
 * guest-speed.c: the host side of the guest-speed benchmark — the same register loop and 4 KiB
 * copy as the guest (bench/guests/guestspeed/speed_loops.h), compiled for the host with the
 * SDK's code-generation flags and timed the same way. Prints loop_x1000=... and memcpy_cycles=...
 *   guest-speed [ITERATIONS [COPIES]]   (defaults 2000000 and 2000, as the guest's)
 */
#include <stdio.h>
#include <stdlib.h>
#include "../guests/guestspeed/speed_loops.h"

static uint8_t buf_a[4096] __attribute__((aligned(4096))), buf_b[4096] __attribute__((aligned(4096)));

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 2000000;
  uint64_t copies = argc > 2 ? strtoull(argv[2], NULL, 0) : 2000;
  if (n == 0 || copies == 0) return 2;
  printf("loop_x1000=%llu\n", (unsigned long long)speed_loop_cycles_x1000(n, 21));
  printf("memcpy_cycles=%llu\n", (unsigned long long)speed_copy_cycles(buf_a, buf_b, copies, 21));
  return 0;
}
