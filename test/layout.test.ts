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
