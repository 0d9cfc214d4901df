/*
 * speed_loops.h: the code guest-speed times, shared by the guest (guestspeed.c) and the host
 * reference (bench/c/guest-speed.c), so both sides run the same instructions: a register loop
 * (a 64-bit LCG step per iteration, multiply then add, nothing in memory) and a 4 KiB copy
 * (rep movsb, as the SDK's memcpy). Both are built with the SDK's flags (-O2 -mno-sse ...).
 */
#ifndef SPEED_LOOPS_H
#define SPEED_LOOPS_H
#include <stddef.h>
#include <stdint.h>

static inline uint64_t speed_tsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
  return ((uint64_t)hi << 32) | lo;
}

/* n LCG steps; the empty asm keeps the value in a register and the loop from being folded. */
__attribute__((noinline, unused)) static uint64_t speed_register_loop(uint64_t n) {
  uint64_t x = 1;
  for (uint64_t i = 0; i < n; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    __asm__ volatile("" : "+r"(x));
  }
  return x;
}

__attribute__((noinline, unused)) static void speed_copy(void *dst, const void *src, size_t n) {
  __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* Cycles per iteration of the register loop: the best of `reps` runs of n iterations. */
__attribute__((unused)) static uint64_t speed_loop_cycles_x1000(uint64_t n, unsigned reps) {
  uint64_t best = ~0ull;
  for (unsigned r = 0; r < reps; r++) {
    uint64_t t0 = speed_tsc();
    speed_register_loop(n);
    uint64_t t = speed_tsc() - t0;
    if (t < best) best = t;
  }
  return best * 1000 / n; /* thousandths of a cycle: integers only (no SSE in the guest) */
}

/* Cycles per 4 KiB copy: the best of `reps` runs of n copies between two buffers. */
__attribute__((unused)) static uint64_t speed_copy_cycles(uint8_t *a, uint8_t *b, uint64_t n, unsigned reps) {
  uint64_t best = ~0ull;
  for (unsigned r = 0; r < reps; r++) {
    uint64_t t0 = speed_tsc();
    for (uint64_t i = 0; i < n; i++) speed_copy(i & 1 ? a : b, i & 1 ? b : a, 4096);
    uint64_t t = speed_tsc() - t0;
    if (t < best) best = t;
  }
  return best / n;
}

#endif
