// xenstore-wire.test.ts: xs_wire conformance over the Unix socket — every message type, its
// replies and errors, paths, perms, DIRECTORY_PART and the domain messages, as dom0 sees them.
// (Transactions and watches are in xenstore-watch-tx.test.ts.)
import t from 'tap';
import { XS } from '../abi/io/xs-wire.ts';
import { encodeMsg } from '../dom0/xenstore/wire.ts';
import { replyStrings, startXenstored } from './helpers/xs-client.ts';

t.test('replies echo type, req_id and tx_id; errors echo req_id and tx_id', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const c = await h.connect();
  const ok = await c.request(XS.WRITE, '/a\0v', 0, 0x12345678);
  t.same([ok.type, ok.reqId, ok.txId, replyStrings(ok)], [XS.WRITE, 0x12345678, 0, ['OK']]);
  const tx = await c.txStart();
  const inTx = await c.request(XS.READ, ['/a'], tx, 77);
  t.same([inTx.type, inTx.reqId, inTx.txId, inTx.payload.toString()], [XS.READ, 77, tx, 'v']);
  const err = await c.request(XS.READ, ['/missing'], tx, 0xfffffffe);
  t.same([err.type, err.reqId, err.txId, err.payload.toString()], [XS.ERROR, 0xfffffffe, tx, 'ENOENT\0']);
});

t.test('node operations: WRITE, READ, MKDIR, DIRECTORY, RM', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const c = await h.connect();
  await c.write('/x/y/z', 'deep');
  t.equal(await c.read('/x/y/z'), 'deep', 'WRITE creates parents');
  t.equal(await c.read('/x/y'), '', 'parents are empty');
  await c.write('/x/bin', 'a\0b\xff');
  t.equal((await c.request(XS.READ, ['/x/bin'])).payload.toString(), 'a\0b\xff', 'values are raw bytes, NULs kept');
  await c.write('/x/empty', '');
  t.equal(await c.read('/x/empty'), '', 'an empty value');
  await c.mkdir('/x/dir');
  await c.mkdir('/x/dir');
  t.same(await c.directory('/x'), ['y', 'bin', 'empty', 'dir'], 'DIRECTORY lists children in creation order');
  t.same(await c.directory('/x/dir'), [], 'an empty directory');
  t.ok((await c.directory('/')).includes('x'), 'the root lists its children');
  await c.rm('/x/y');
  t.equal(await c.errorOf(XS.READ, ['/x/y/z']), 'ENOENT', 'RM is recursive');
  await c.rm('/x/y');
  t.pass('RM of a missing node whose parent exists is OK');
  t.equal(await c.errorOf(XS.RM, ['/nope/deeper']), 'ENOENT', 'RM with a missing parent is ENOENT');
  t.equal(await c.errorOf(XS.RM, ['/']), 'EINVAL', 'the root cannot be removed');
  t.equal(await c.errorOf(XS.DIRECTORY, ['/nope']), 'ENOENT');
  t.equal(await c.errorOf(XS.READ, ['/nope']), 'ENOENT');
  t.equal(await c.errorOf(XS.GET_PERMS, ['/nope']), 'ENOENT');
  t.equal(await c.errorOf(XS.SET_PERMS, ['/nope', 'n0']), 'ENOENT');
});

t.test('relative paths from dom0 resolve under /local/domain/0', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const c = await h.connect();
  await c.write('rel/key', 'r');
  t.equal(h.xs.local.read('/local/domain/0/rel/key'), 'r');
  t.equal(await c.read('rel/key'), 'r');
});

t.test('path validation answers EINVAL', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const c = await h.connect();
  for (const bad of ['/a//b', '/a/', '/a b', '/a\tb', '/ü', '/a/b.c', '', '@introduceDomain', `/${'a'.repeat(3072)}`, 'r'.repeat(2049)]) {
    t.equal(await c.errorOf(XS.WRITE, Buffer.from(`${bad}\0v`)), 'EINVAL', `WRITE ${JSON.stringify(bad.slice(0, 20))}`);
    t.equal(await c.errorOf(XS.READ, [bad]), 'EINVAL', `READ ${JSON.stringify(bad.slice(0, 20))}`);
  }
  await c.write(`/${'a'.repeat(3071)}`, 'ok');
  t.pass('an absolute path of exactly 3072 bytes is fine');
  await c.write('/ok-path_with@chars/AZaz09', 'ok');
  t.pass('alnum and -/_@ are allowed');
  t.equal(await c.errorOf(XS.READ, Buffer.from('/a')), 'EINVAL', 'a payload without its NUL');
  t.equal(await c.errorOf(XS.WRITE, Buffer.from('/a')), 'EINVAL', 'WRITE without a NUL after the path');
});

t.test('GET_PERMS and SET_PERMS', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const c = await h.connect();
  await c.write('/p', 'v');
  t.same(await c.getPerms('/p'), ['n0'], 'inherits the root default n0');
  await c.setPerms('/p', ['r5', 'w6', 'b7', 'n8']);
  t.same(await c.getPerms('/p'), ['r5', 'w6', 'b7', 'n8']);
  await c.write('/p/child', 'c');
  t.same(await c.getPerms('/p/child'), ['r5', 'w6', 'b7', 'n8'], 'a node dom0 creates inherits the parent perms, owner included');
  for (const bad of [['/p', 'x1'], ['/p', 'r'], ['/p', 'r1a'], ['/p', 'r99999'], ['/p']]) {
    t.equal(await c.errorOf(XS.SET_PERMS, bad), 'EINVAL', `SET_PERMS ${bad.join(' ')}`);
  }
  t.same(await c.getPerms('@releaseDomain'), ['n0'], 'the special nodes have perms too');
  await c.setPerms('@releaseDomain', ['n0', 'r3']);
  t.same(await c.getPerms('@releaseDomain'), ['n0', 'r3']);
});

t.test('DIRECTORY_PART: gencnt, offsets and the end marker', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const c = await h.connect();
  const names = Array.from({ length: 400 }, (_, i) => `child-number-${String(i).padStart(4, '0')}`);
  for (const n of names) h.xs.local.write(`/big/${n}`, '');
  t.equal(await c.errorOf(XS.DIRECTORY, ['/big']), 'E2BIG', 'a list over 4096 bytes is E2BIG for DIRECTORY');
  const got: string[] = [];
  let offset = 0;
  let gen: string | undefined;
  for (let rounds = 0; rounds < 20; rounds++) {
    const m = await c.request(XS.DIRECTORY_PART, ['/big', String(offset)]);
    t.equal(m.type, XS.DIRECTORY_PART);
    t.ok(m.payload.length <= 4096, 'each part fits the payload limit');
    const s = m.payload.toString();
    const g = s.slice(0, s.indexOf('\0'));
    gen ??= g;
    t.equal(g, gen, 'gencnt is stable while the node is unchanged');
    const body = s.slice(g.length + 1);
    const end = body.endsWith('\0\0') || body === '\0';
    const parts = body.split('\0').filter((x) => x !== '');
    got.push(...parts);
    offset += Buffer.byteLength(parts.map((p) => `${p}\0`).join(''));
    if (end) break;
  }
  t.same(got, names, 'the parts reassemble the whole list');
  const past = await c.request(XS.DIRECTORY_PART, ['/big', '999999']);
  t.equal(past.payload.toString(), `${gen}\0\0`, 'an offset past the end returns gencnt and an empty name');
  h.xs.local.write('/big/one-more', '');
  const after = await c.request(XS.DIRECTORY_PART, ['/big', '0']);
  t.not(after.payload.toString().split('\0')[0], gen, 'gencnt changes when the children change');
  await c.mkdir('/small');
  await c.mkdir('/small/a');
  await c.mkdir('/small/bb');
  const small = (await c.request(XS.DIRECTORY_PART, ['/small', '2'])).payload.toString();
  t.match(small, /^\d+\0bb\0\0$/, 'offset is a byte offset into the list');
  t.equal(await c.errorOf(XS.DIRECTORY_PART, ['/small']), 'EINVAL', 'the offset is required');
  t.equal(await c.errorOf(XS.DIRECTORY_PART, ['/small', 'x']), 'EINVAL', 'the offset is decimal');
  t.equal(await c.errorOf(XS.DIRECTORY_PART, ['/none', '0']), 'ENOENT');
});

t.test('domain messages from dom0', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const c = await h.connect();
  t.same(await c.call(XS.GET_DOMAIN_PATH, ['7']), ['/local/domain/7']);
  t.equal(await c.errorOf(XS.GET_DOMAIN_PATH, ['x']), 'EINVAL');
  t.same(await c.call(XS.IS_DOMAIN_INTRODUCED, ['4']), ['F']);
  t.same(await c.call(XS.IS_DOMAIN_INTRODUCED, ['0']), ['T'], 'dom0 is always there');
  t.equal(await c.errorOf(XS.INTRODUCE, ['4', '1234', '5']), 'EINVAL', 'INTRODUCE cannot attach a ring over the wire');
  h.xs.on('introduce-request', (domid, gfn, port) => {
    if (domid === 6 && gfn === 99n && port === 2) h.guest(6);
  });
  t.equal(await c.errorOf(XS.INTRODUCE, ['6', '99', '2']), 'OK', 'unless an introduce-request listener introduces it');
  h.guest(4);
  t.same(await c.call(XS.IS_DOMAIN_INTRODUCED, ['4']), ['T']);
  t.equal(await c.errorOf(XS.INTRODUCE, ['4', '1234', '5']), 'OK', 'a repeat INTRODUCE is OK');
  t.equal(await c.errorOf(XS.INTRODUCE, ['4', '1234']), 'EINVAL');
  t.equal(await c.errorOf(XS.RESUME, ['4']), 'OK');
  t.equal(await c.errorOf(XS.RESUME, ['5']), 'ENOENT');
  t.equal(await c.errorOf(XS.SET_TARGET, ['4', '6']), 'OK');
  t.equal(await c.errorOf(XS.SET_TARGET, ['5', '6']), 'ENOENT');
  t.equal(await c.errorOf(XS.RELEASE, ['4']), 'OK');
  t.same(await c.call(XS.IS_DOMAIN_INTRODUCED, ['4']), ['F']);
  t.equal(await c.errorOf(XS.RELEASE, ['4']), 'ENOENT', 'releasing twice');
  t.equal(await c.errorOf(XS.RELEASE, ['0']), 'ENOENT', 'dom0 cannot be released');
});

t.test('CONTROL, optional and unknown message types', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const c = await h.connect();
  t.same(await c.call(XS.CONTROL, ['print', 'hello', 'there']), ['OK']);
  t.ok(h.logs.some((l) => l.includes('hello there')), 'print logs its text');
  t.match((await c.call(XS.CONTROL, ['help']))[0], /print/);
  t.match((await c.call(XS.CONTROL, ['quota']))[0], /nodes 1000/);
  t.equal(await c.errorOf(XS.CONTROL, ['no-such-command']), 'EINVAL');
  for (const type of [XS.GET_FEATURE, XS.SET_FEATURE, XS.GET_QUOTA, XS.SET_QUOTA, 20, 27, 1000, XS.INVALID, XS.WATCH_EVENT, XS.ERROR]) {
    const m = await c.request(type, ['x'], 0, 900 + type);
    t.same([m.type, m.reqId, m.payload.toString()], [XS.ERROR, 900 + type, 'ENOSYS\0'], `type ${type} → ENOSYS`);
  }
});

t.test('many concurrent socket clients', async (t) => {
  const h = await startXenstored();
  t.teardown(() => h.close());
  const clients = await Promise.all(Array.from({ length: 20 }, () => h.connect()));
  await Promise.all(clients.map(async (c, i) => {
    for (let k = 0; k < 20; k++) await c.write(`/many/${i}/${k}`, `${i}-${k}`);
  }));
  const values = await Promise.all(clients.map((c, i) => c.read(`/many/${(i + 1) % 20}/19`)));
  t.same(values, clients.map((_, i) => `${(i + 1) % 20}-19`));
  t.equal((await clients[0]!.directory('/many')).length, 20);
  // Several requests in one write: pipelined replies come back in order.
  const one = clients[0]!;
  const frames = Buffer.concat([1, 2, 3].map((id) => encodeMsg(XS.GET_DOMAIN_PATH, 500 + id, 0, Buffer.from(`${id}\0`))));
  const waits = [1, 2, 3].map((id) => one.awaitReply(500 + id));
  one.sendRaw(frames);
  t.same((await Promise.all(waits)).map(replyStrings), [['/local/domain/1'], ['/local/domain/2'], ['/local/domain/3']]);
});
