// console-ring.test.ts: the PV console backend against a mock guest — wrap-around, hostile indices,
// input flow control, log file and backlog.
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleRing } from '../dom0/console/ring.ts';
import { ConsoleBackend, BACKLOG_MAX, INPUT_QUEUE_MAX } from '../dom0/console/backend.ts';
import { Backlog } from '../dom0/console/backlog.ts';
import { offsetOf } from '../abi/layout.ts';
import { XENCONS as XENCONS_SIZES, XenconsInterface } from '../abi/io/console.ts';

/** The guest's view of the page, by byte offset (abi/io/console.ts, checked against Xen's header). */
const XENCONS = {
  IN_OFFSET: offsetOf(XenconsInterface, 'in'),
  IN_SIZE: XENCONS_SIZES.values.IN_SIZE,
  OUT_OFFSET: offsetOf(XenconsInterface, 'out'),
  OUT_SIZE: XENCONS_SIZES.values.OUT_SIZE,
  IN_CONS: offsetOf(XenconsInterface, 'in_cons'),
  IN_PROD: offsetOf(XenconsInterface, 'in_prod'),
  OUT_CONS: offsetOf(XenconsInterface, 'out_cons'),
  OUT_PROD: offsetOf(XenconsInterface, 'out_prod'),
  CONNECTION: offsetOf(XenconsInterface, 'connection'),
} as const;

const tmp = mkdtempSync(join(tmpdir(), 'pvkvm-console-'));

/** Deterministic PRNG so failures replay. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const GUARD = 64;
const SENTINEL = 0xa5;

/** A 4 KiB page inside a larger shared buffer whose guard bytes reveal stray writes. */
function makePage(): { page: Uint8Array; guardsIntact: () => boolean } {
  const sab = new SharedArrayBuffer(4096 + 2 * GUARD);
  const all = new Uint8Array(sab);
  all.fill(SENTINEL);
  const page = new Uint8Array(sab, GUARD, 4096);
  page.fill(0);
  const guardsIntact = (): boolean =>
    all.subarray(0, GUARD).every((b) => b === SENTINEL) && all.subarray(GUARD + 4096).every((b) => b === SENTINEL);
  return { page, guardsIntact };
}

/** The guest's side of the protocol, as hvc_xen implements it. */
class MockGuest {
  private readonly dv: DataView;

  constructor(private readonly page: Uint8Array) {
    this.dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
  }

  get(off: number): number {
    return this.dv.getUint32(off, true);
  }

  set(off: number, v: number): void {
    this.dv.setUint32(off, v >>> 0, true);
  }

  /** Write as much as fits into `out`; returns the count. */
  writeOut(bytes: Uint8Array): number {
    const cons = this.get(XENCONS.OUT_CONS);
    let prod = this.get(XENCONS.OUT_PROD);
    const free = XENCONS.OUT_SIZE - ((prod - cons) >>> 0);
    const n = Math.min(free, bytes.length);
    for (let i = 0; i < n; i++) {
      this.page[XENCONS.OUT_OFFSET + (prod & (XENCONS.OUT_SIZE - 1))] = bytes[i]!;
      prod = (prod + 1) >>> 0;
    }
    this.set(XENCONS.OUT_PROD, prod);
    return n;
  }

  /** Consume at most `max` bytes of `in`. */
  readIn(max = Infinity): Uint8Array {
    let cons = this.get(XENCONS.IN_CONS);
    const prod = this.get(XENCONS.IN_PROD);
    const n = Math.min(max, (prod - cons) >>> 0);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.page[XENCONS.IN_OFFSET + (cons & (XENCONS.IN_SIZE - 1))]!;
      cons = (cons + 1) >>> 0;
    }
    this.set(XENCONS.IN_CONS, cons);
    return out;
  }

  /** Start all four indices at `v` (guests must not assume 0). */
  startAt(v: number): void {
    for (const off of [XENCONS.IN_CONS, XENCONS.IN_PROD, XENCONS.OUT_CONS, XENCONS.OUT_PROD]) this.set(off, v);
  }
}

function randomBytes(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

t.test('layout matches xencons_interface', async (t) => {
  t.equal(XENCONS.IN_OFFSET + XENCONS.IN_SIZE, XENCONS.OUT_OFFSET);
  t.equal(XENCONS.OUT_OFFSET + XENCONS.OUT_SIZE, XENCONS.IN_CONS);
  t.same([XENCONS.IN_CONS, XENCONS.IN_PROD, XENCONS.OUT_CONS, XENCONS.OUT_PROD], [3072, 3076, 3080, 3084]);
  t.equal(XENCONS.CONNECTION, 3088);
});

t.test('rejects pages it cannot use safely', async (t) => {
  t.throws(() => new ConsoleRing(new Uint8Array(100)), RangeError);
  const buf = new ArrayBuffer(8192);
  t.throws(() => new ConsoleRing(new Uint8Array(buf, 2, 4096)), RangeError);
  t.doesNotThrow(() => new ConsoleRing(new Uint8Array(buf, 4096, 4096)));
});

t.test('output wraps byte-exactly over many rounds, across the u32 wrap', async (t) => {
  for (const start of [0, 0xfffff000, 0xffffffff - 3, 12345]) {
    const { page, guardsIntact } = makePage();
    const guest = new MockGuest(page);
    guest.startAt(start);
    const ring = new ConsoleRing(page);
    const r = rng(start + 1);
    const sent: Uint8Array[] = [];
    const got: Uint8Array[] = [];
    for (let round = 0; round < 2000; round++) {
      const chunk = randomBytes(r, Math.floor(r() * 2600));
      const n = guest.writeOut(chunk);
      sent.push(chunk.subarray(0, n));
      if (r() < 0.7) got.push(ring.drainOutput());
    }
    got.push(ring.drainOutput());
    t.same(Buffer.from(concat(got)), Buffer.from(concat(sent)), `start ${start.toString(16)}: same bytes`);
    t.equal(ring.broken, false);
    t.equal(ring.pendingOutput(), 0);
    t.ok(guardsIntact(), 'nothing written outside the page');
  }
});

t.test('input wraps byte-exactly and never overfills the ring', async (t) => {
  const { page, guardsIntact } = makePage();
  const guest = new MockGuest(page);
  guest.startAt(0xfffffc00);
  const ring = new ConsoleRing(page);
  const r = rng(7);
  const sent: Uint8Array[] = [];
  const got: Uint8Array[] = [];
  for (let round = 0; round < 2000; round++) {
    const chunk = randomBytes(r, Math.floor(r() * 1500));
    const n = ring.pushInput(chunk);
    t.ok(n <= XENCONS.IN_SIZE);
    sent.push(chunk.subarray(0, n));
    const inFlight = (guest.get(XENCONS.IN_PROD) - guest.get(XENCONS.IN_CONS)) >>> 0;
    if (inFlight > XENCONS.IN_SIZE) t.fail(`ring overfilled: ${inFlight}`);
    if (inFlight === XENCONS.IN_SIZE) t.notOk(ring.hasInputSpace());
    got.push(guest.readIn(Math.floor(r() * 1200)));
  }
  got.push(guest.readIn());
  t.same(Buffer.from(concat(got)), Buffer.from(concat(sent)));
  t.ok(ring.hasInputSpace());
  t.ok(guardsIntact());
});

t.test('garbage indices break the ring without throwing or straying', async (t) => {
  const cases: Array<[string, number, number]> = [
    ['prod far ahead', 100, 100 + 5000],
    ['prod one past full', 0, XENCONS.OUT_SIZE + 1],
    ['prod behind cons', 500, 499],
    ['prod = cons - 2^31', 0x80000000, 0],
  ];
  for (const [what, cons, prod] of cases) {
    const { page, guardsIntact } = makePage();
    const guest = new MockGuest(page);
    guest.set(XENCONS.OUT_CONS, cons);
    guest.set(XENCONS.OUT_PROD, prod);
    const ring = new ConsoleRing(page);
    t.equal(ring.drainOutput().length, 0, `${what}: nothing returned`);
    t.ok(ring.broken, `${what}: broken`);
    t.match(ring.reason, /out ring/);
    t.equal(guest.get(XENCONS.OUT_CONS), cons, `${what}: cons untouched`);
    // Sticky: even a sane ring afterwards is ignored, as xenconsoled ignores a broken domain.
    guest.set(XENCONS.OUT_PROD, cons + 1);
    t.equal(ring.drainOutput().length, 0);
    t.equal(ring.pushInput(new Uint8Array(10)), 0);
    t.notOk(ring.hasInputSpace());
    t.ok(guardsIntact());
  }
  // Exactly full is legal.
  const { page } = makePage();
  const guest = new MockGuest(page);
  guest.set(XENCONS.OUT_CONS, 0xfffffff0);
  guest.set(XENCONS.OUT_PROD, (0xfffffff0 + XENCONS.OUT_SIZE) >>> 0);
  const ring = new ConsoleRing(page);
  t.equal(ring.drainOutput().length, XENCONS.OUT_SIZE);
  t.notOk(ring.broken);
  // A guest that scribbles on the input indices breaks the ring too.
  guest.set(XENCONS.IN_CONS, 0);
  guest.set(XENCONS.IN_PROD, 4000);
  t.equal(ring.pushInput(new Uint8Array(1)), 0);
  t.match(ring.reason, /in ring/);
});

t.test('random index fuzz: never throws, never returns more than the ring holds', async (t) => {
  const { page, guardsIntact } = makePage();
  const guest = new MockGuest(page);
  const r = rng(99);
  let broken = 0;
  for (let i = 0; i < 20000; i++) {
    const ring = new ConsoleRing(page);
    const cons = Math.floor(r() * 2 ** 32);
    const near = r() < 0.5;
    const prod = near ? (cons + Math.floor(r() * 4096) - 1024) >>> 0 : Math.floor(r() * 2 ** 32);
    guest.set(XENCONS.OUT_CONS, cons);
    guest.set(XENCONS.OUT_PROD, prod);
    guest.set(XENCONS.IN_CONS, Math.floor(r() * 2 ** 32));
    guest.set(XENCONS.IN_PROD, Math.floor(r() * 2 ** 32));
    const out = ring.drainOutput();
    if (out.length > XENCONS.OUT_SIZE) t.fail('returned more than the ring');
    if (ring.broken) broken++;
    else if (out.length !== ((prod - cons) >>> 0)) t.fail('sane ring not fully drained');
    ring.pushInput(new Uint8Array(2000));
  }
  t.ok(broken > 0);
  t.ok(guardsIntact());
});

interface Rig {
  backend: ConsoleBackend;
  guest: MockGuest;
  notifies: () => number;
}

function rig(logPath?: string): Rig {
  const { page } = makePage();
  const guest = new MockGuest(page);
  guest.startAt(0xffffff00);
  let notifies = 0;
  const backend = new ConsoleBackend({ domid: 3, name: 'guest', page, notify: () => notifies++, logPath });
  return { backend, guest, notifies: () => notifies };
}

t.test('input larger than the ring is queued and delivered as the guest consumes', async (t) => {
  const { backend, guest, notifies } = rig();
  const input = randomBytes(rng(5), 5000);
  backend.write(input);
  t.equal(backend.inputQueued, 5000 - XENCONS.IN_SIZE);
  t.equal(notifies(), 1, 'guest told about the first 1024 bytes');
  const got: Uint8Array[] = [];
  let rounds = 0;
  while (backend.inputQueued > 0 || guest.get(XENCONS.IN_PROD) !== guest.get(XENCONS.IN_CONS)) {
    got.push(guest.readIn(700));
    backend.onGuestEvent(); // the guest signals after consuming input
    if (++rounds > 100) break;
  }
  t.same(Buffer.from(concat(got)), Buffer.from(input));
  t.equal(backend.inputDropped, 0);
  t.ok(notifies() > 1);
  // Nothing to do: no spurious notification.
  const before = notifies();
  backend.onGuestEvent();
  t.equal(notifies(), before);
});

t.test('input beyond the queue bound is dropped and counted', async (t) => {
  const { backend } = rig();
  backend.write(new Uint8Array(100 * 1024));
  t.equal(backend.inputQueued, INPUT_QUEUE_MAX);
  t.equal(backend.inputDropped, 100 * 1024 - INPUT_QUEUE_MAX - XENCONS.IN_SIZE);
});

t.test('output goes to listeners, the log file and the backlog, in order', async (t) => {
  const logPath = join(tmp, 'guest-3.log');
  const { backend, guest, notifies } = rig(logPath);
  const seen: Uint8Array[] = [];
  backend.on('output', (b) => seen.push(b));
  const r = rng(11);
  const sent: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    const chunk = randomBytes(r, 1 + Math.floor(r() * 2047));
    sent.push(chunk.subarray(0, guest.writeOut(chunk)));
    backend.onGuestEvent();
    if (i % 50 === 0) await new Promise((res) => setImmediate(res)); // let some writes land mid-stream
  }
  t.equal(notifies(), 300, 'guest notified after each drain (it may wait for space)');
  const all = Buffer.from(concat(sent));
  t.same(Buffer.from(concat(seen)), all, 'listeners saw everything');
  await backend.close();
  t.same(readFileSync(logPath), all, 'log holds exactly the output');
  t.ok(all.length > BACKLOG_MAX);
  t.same(Buffer.from(backend.backlog()), all.subarray(all.length - BACKLOG_MAX), 'backlog is the last 64 KiB');
  // Closed: events are ignored.
  guest.writeOut(new Uint8Array([1, 2, 3]));
  backend.onGuestEvent();
  t.equal(seen.length, 300);
});

t.test('the log captures output with nobody attached, and appends', async (t) => {
  const logPath = join(tmp, 'append.log');
  for (const text of ['first boot\n', 'second boot\n']) {
    const { backend, guest } = rig(logPath);
    guest.writeOut(new TextEncoder().encode(text));
    backend.onGuestEvent();
    await backend.close();
  }
  t.equal(readFileSync(logPath, 'utf8'), 'first boot\nsecond boot\n');
});

t.test('an unwritable log is reported once and the console keeps working', async (t) => {
  const { backend, guest } = rig(join(tmp, 'no-such-dir', 'x.log'));
  const errors: Error[] = [];
  backend.on('log-error', (e) => errors.push(e));
  const seen: Uint8Array[] = [];
  backend.on('output', (b) => seen.push(b));
  guest.writeOut(new Uint8Array([65, 66]));
  backend.onGuestEvent();
  await backend.close();
  t.equal(errors.length, 1);
  t.equal(seen.length, 1);
});

t.test('a broken ring is reported once and then ignored', async (t) => {
  const { backend, guest, notifies } = rig();
  const reasons: string[] = [];
  backend.on('broken', (r) => reasons.push(r));
  backend.on('output', () => t.fail('no output from a broken ring'));
  guest.set(XENCONS.OUT_PROD, guest.get(XENCONS.OUT_CONS) + 999999);
  backend.onGuestEvent();
  backend.onGuestEvent();
  backend.write(new Uint8Array(10));
  t.equal(reasons.length, 1);
  t.ok(backend.broken);
  t.equal(notifies(), 0);
});

t.test('backlog keeps the tail of oversized and wrapping appends', async (t) => {
  const b = new Backlog(10);
  t.same([...b.snapshot()], []);
  b.append(new Uint8Array([1, 2, 3]));
  t.same([...b.snapshot()], [1, 2, 3]);
  b.append(new Uint8Array([4, 5, 6, 7, 8, 9, 10, 11, 12]));
  t.same([...b.snapshot()], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  b.append(Uint8Array.from({ length: 25 }, (_, i) => 100 + i));
  t.same([...b.snapshot()], [115, 116, 117, 118, 119, 120, 121, 122, 123, 124]);
  const r = rng(3);
  const ref: number[] = [];
  const big = new Backlog(BACKLOG_MAX);
  for (let i = 0; i < 200; i++) {
    const chunk = randomBytes(r, Math.floor(r() * 3000));
    big.append(chunk);
    ref.push(...chunk);
  }
  t.same(Buffer.from(big.snapshot()), Buffer.from(ref.slice(-BACKLOG_MAX)));
});
