// coverage-planted.ts: a target with a bug behind four nested nibble comparisons, which blind
// inputs rarely reach (2^-16) and a coverage-guided search reaches step by step: the check
// that coverage-fuzz.ts is guided by coverage and reports what it finds.
import type { CoverageTarget } from './coverage-fuzz.ts';

export const planted: CoverageTarget = {
  name: 'planted',
  files: ['test/helpers/coverage-planted.ts'],
  maxLen: 64,
  seeds: () => [Buffer.from('seed')],
  run(input) {
    /* Each step is one high nibble (1 in 16); all four at random: 1 in 65536 of the right length. */
    if (input[0]! >> 4 === 0x5) {
      if (input[1]! >> 4 === 0xa) {
        if (input[2]! >> 4 === 0x3) {
          if (input[3]! >> 4 === 0xc) throw new RangeError('planted bug reached');
        }
      }
    }
  },
};
