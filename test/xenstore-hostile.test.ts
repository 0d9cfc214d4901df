// xenstore-hostile.test.ts: hostile socket clients — malformed frames, oversize payloads, bad
// paths, floods. Each gets an error reply or loses its own connection; others keep being served.
import t from 'tap';
import { XS } from '../abi/io/xs-wire.ts';
import { encodeMsg } from '../dom0/xenstore/wire.ts';
import { startXenstored } from './helpers/xs-client.ts';

t.test('a header announcing more than 4096 bytes drops that client only', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const bad = await h.connect();
  const good = await h.connect();
  await good.write('/ok', '1');
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(XS.WRITE, 0);
  hdr.writeUInt32LE(4097, 12);
  bad.sendRaw(hdr);
  await bad.closed;
  t.pass('the bad client was disconnected');
  t.ok(h.logs.some((l) => /dropping socket client/.test(l)), 'and it was logged');
  t.equal(await good.read('/ok'), '1', 'the other client is still served');
  const again = await h.connect();
  t.equal(await again.read('/ok'), '1', 'and new clients are accepted');
});

t.test('byte-by-byte frames, truncated frames and abrupt closes', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const slow = await h.connect();
  const msg = encodeMsg(XS.GET_DOMAIN_PATH, 7, 0, Buffer.from('5\0'));
  const reply = slow.awaitReply(7);
  for (const b of msg) {
    slow.sendRaw(Buffer.of(b));
    await new Promise((r) => setImmediate(r));
  }
  t.equal((await reply).payload.toString(), '/local/domain/5\0', 'a frame sent a byte at a time');
  const quitter = await h.connect();
  quitter.sendRaw(msg.subarray(0, 9));
  quitter.close();
  const flood = await h.connect();
  for (let i = 0; i < 500; i++) flood.sendRaw(encodeMsg(XS.WRITE, i, 0, Buffer.from(`/flood/${i}\0v`)));
  flood.close(); // gone before reading any reply
  const c = await h.connect();
  await c.write('/after', 'ok');
  t.equal(await c.read('/after'), 'ok', 'the server is unaffected');
});

t.test('bad payloads get error replies and the connection stays', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const c = await h.connect();
  const cases: [string, number, Buffer][] = [
    ['non-ASCII path', XS.READ, Buffer.from([0x2f, 0xc3, 0xa9, 0])],
    ['invalid UTF-8 path', XS.READ, Buffer.from([0x2f, 0xff, 0xfe, 0])],
    ['space in path', XS.WRITE, Buffer.from('/a b\0v')],
    ['dot in path', XS.MKDIR, Buffer.from('/a/../b\0')],
    ['empty payload', XS.READ, Buffer.alloc(0)],
    ['no terminating NUL', XS.DIRECTORY, Buffer.from('/')],
    ['NUL only', XS.RM, Buffer.from('\0')],
    ['bad watch depth', XS.WATCH, Buffer.from('/a\0t\0-1\0')],
    ['huge domid', XS.GET_DOMAIN_PATH, Buffer.from('99999999999\0')],
    ['bad gfn', XS.INTRODUCE, Buffer.from('3\0zz\x001\0')],
  ];
  for (const [what, type, payload] of cases) t.equal(await c.errorOf(type, payload), 'EINVAL', what);
  t.equal(await c.errorOf(0xdead, Buffer.from('x\0')), 'ENOSYS', 'an unknown type');
  await c.write('/still', 'here');
  t.equal(await c.read('/still'), 'here', 'the same connection still works');
});

t.test('a watch flood from one client does not stop others', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const flood = await h.connect();
  const other = await h.connect();
  await Promise.all(Array.from({ length: 2000 }, (_, i) => flood.watch('/f', `tok${i}`)));
  await other.write('/f/x', '1');
  await other.write('/f/x', '2');
  t.equal(await other.read('/f/x'), '2');
  const evs = await flood.drainEvents();
  t.equal(evs.length, 2000 * 3, 'every watch fired once at registration and once per write');
});
