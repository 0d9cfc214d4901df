// layout.test.ts: the struct-layout DSL rejects bad declarations and round-trips values.
import t from 'tap';
import { defineStruct, readField, writeField } from '../abi/layout.ts';

t.test('round trip', async (t) => {
  const S = defineStruct('s', 16, [['a', 0, 'u32'], ['b', 8, 'u64']]);
  const v = new DataView(new ArrayBuffer(16));
  writeField(v, 0, S, 'a', 0xdeadbeef);
  writeField(v, 0, S, 'b', 2n ** 63n);
  t.equal(readField(v, 0, S, 'a'), 0xdeadbeef);
  t.equal(readField(v, 0, S, 'b'), 2n ** 63n);
});
t.test('overlap rejected', async (t) => {
  t.throws(() => defineStruct('bad', 8, [['a', 0, 'u64'], ['b', 4, 'u32']]));
});
t.test('unions: declared members share an offset, anything else still may not', async (t) => {
  const U = defineStruct('u', 16, [['r', 0, 'u32'], ['g', 0, 'u64'], ['n', 8, 'u16']], { unions: [['r', 'g']] });
  const v = new DataView(new ArrayBuffer(16));
  writeField(v, 0, U, 'g', 0x1_0000_0007n);
  t.equal(readField(v, 0, U, 'r'), 7, 'the narrow member reads the low half');
  t.equal(readField(v, 0, U, 'g'), 0x1_0000_0007n, 'the wide member reads all of it');
  t.same(U.unions, [['r', 'g']]);
  t.throws(() => defineStruct('b1', 16, [['r', 0, 'u32'], ['g', 0, 'u64']]), /overlaps/, 'no union declared');
  t.throws(() => defineStruct('b2', 16, [['r', 0, 'u32'], ['g', 4, 'u32']], { unions: [['r', 'g']] }), /union's offset/);
  t.throws(() => defineStruct('b3', 16, [['r', 0, 'u32'], ['g', 0, 'u64'], ['x', 4, 'u32']], { unions: [['r', 'g']] }),
    /overlaps/, 'a field inside the union span');
  t.throws(() => defineStruct('b4', 16, [['r', 0, 'u32']], { unions: [['r']] }), /two or more/);
});
