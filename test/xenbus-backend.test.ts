// xenbus-backend.test.ts: backend-side xenbus helpers against an in-memory fake xenstore — device
// creation and removal, the state handshake with orderly, skipping, coalescing and hostile
// frontends, and the backend enumerator.
import t, { type Test } from 'tap';
import type { XenbusPerm, XenbusStore, XenbusTx } from '../dom0/backend-sdk/xenbus/store-api.ts';
import { XenbusState, type XenbusStateValue } from '../abi/io/xenbus.ts';
import { parseState, stateName } from '../dom0/backend-sdk/xenbus/state.ts';
import { createDevicePair, removeDevicePair } from '../dom0/backend-sdk/xenbus/device-pair.ts';
import { frontendPath, backendPath } from '../dom0/backend-sdk/xenbus/paths.ts';
import { BackendDevice } from '../dom0/backend-sdk/xenbus/backend-device.ts';
import { watchBackends } from '../dom0/backend-sdk/xenbus/watch-backends.ts';

const S = XenbusState;

interface Node {
  value: string;
  perms: XenbusPerm[];
}

/**
 * A xenstore in a Map: writes create parents, rm is recursive, watches cover a subtree and fire
 * once on registration, transactions apply atomically and fire their watches on commit.
 * Watches are delivered synchronously, or from a microtask like dom0's XsLocal.
 */
class FakeStore implements XenbusStore {
  nodes = new Map<string, Node>([['/', { value: '', perms: [{ id: 0, perm: 'n' }] }]]);
  private watches = new Set<{ path: string; cb: (p: string) => void }>();
  /** Every state write, in order: [path, value]. */
  readonly writes: Array<[string, string]> = [];
  private pending: string[] | null = null;

  constructor(private readonly async = false) {}

  read(path: string): string | null {
    return this.nodes.get(path)?.value ?? null;
  }

  write(path: string, value: string): void {
    this.ensure(path);
    this.nodes.get(path)!.value = value;
    this.writes.push([path, value]);
    this.changed(path);
  }

  mkdir(path: string): void {
    if (this.ensure(path)) this.changed(path);
  }

  rm(path: string): void {
    if (!this.nodes.has(path)) return;
    for (const p of [...this.nodes.keys()]) if (p === path || p.startsWith(`${path}/`)) this.nodes.delete(p);
    this.changed(path, true);
  }

  directory(path: string): string[] | null {
    if (!this.nodes.has(path)) return null;
    const prefix = path === '/' ? '/' : `${path}/`;
    return [...this.nodes.keys()].filter((p) => p.startsWith(prefix) && p !== path && !p.slice(prefix.length).includes('/'))
      .map((p) => p.slice(prefix.length));
  }

  setPerms(path: string, perms: XenbusPerm[]): void {
    const n = this.nodes.get(path);
    if (!n) throw new Error(`ENOENT ${path}`);
    n.perms = perms.map((p) => ({ ...p }));
    this.changed(path);
  }

  perms(path: string): XenbusPerm[] | undefined {
    return this.nodes.get(path)?.perms;
  }

  watch(path: string, cb: (path: string) => void): () => void {
    const w = { path, cb };
    this.watches.add(w);
    this.deliver(w, path);
    return () => this.watches.delete(w);
  }

  transaction<T>(fn: (tx: XenbusTx) => T): T {
    const snapshot = new Map([...this.nodes].map(([k, v]) => [k, { value: v.value, perms: [...v.perms] }]));
    const outer = this.pending;
    this.pending = [];
    try {
      const result = fn(this);
      const fired = this.pending;
      this.pending = outer;
      for (const p of fired) this.fire(p, false);
      return result;
    } catch (err) {
      this.nodes = snapshot;
      this.pending = outer;
      throw err;
    }
  }

  private ensure(path: string): boolean {
    if (this.nodes.has(path)) return false;
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    this.ensure(parent);
    this.nodes.set(path, { value: '', perms: this.nodes.get(parent)!.perms.map((p) => ({ ...p })) });
    return true;
  }

  private changed(path: string, removal = false): void {
    if (this.pending !== null) this.pending.push(removal ? `rm:${path}` : path);
    else this.fire(path, removal);
  }

  private fire(path: string, removal: boolean): void {
    if (path.startsWith('rm:')) {
      path = path.slice(3);
      removal = true;
    }
    for (const w of [...this.watches]) {
      const covers = path === w.path || path.startsWith(`${w.path}/`) || (removal && w.path.startsWith(`${path}/`));
      if (covers) this.deliver(w, path);
    }
  }

  private deliver(w: { path: string; cb: (p: string) => void }, path: string): void {
    if (this.async) {
      queueMicrotask(() => {
        if (this.watches.has(w)) w.cb(path);
      });
    } else {
      w.cb(path);
    }
  }
}

const settle = (): Promise<void> => new Promise((res) => setImmediate(res));

const VBD = { type: 'vbd', frontDomid: 5, backDomid: 0, devid: 51712 } as const;
const FE = frontendPath(VBD);
const BE = backendPath(VBD);

/** The backend states written to xenstore, in order. */
function backendHistory(store: FakeStore): number[] {
  return store.writes.filter(([p]) => p === `${BE}/state`).map(([, v]) => Number(v));
}

interface Rig {
  store: FakeStore;
  dev: BackendDevice;
  events: string[];
  front: (s: XenbusStateValue | string) => void;
}

/**
 * A device with a well-behaved owner: on 'connect' it reads the transport keys, publishes
 * properties and goes Connected; on 'close' it tears down and goes Closed.
 */
function rig(opts: { async?: boolean; autoClose?: boolean; initWait?: boolean } = {}): Rig {
  const store = new FakeStore(opts.async ?? false);
  createDevicePair(store, { ...VBD, frontKeys: { 'virtual-device': '51712' }, backKeys: { params: '/x.img', mode: 'w' } });
  const dev = new BackendDevice(store, BE);
  const events: string[] = [];
  dev.on('frontend-state', (s) => events.push(`fe:${stateName(s)}`));
  dev.on('connect', (fe) => {
    events.push(`connect:${dev.readFrontend('ring-ref')}`);
    if (fe !== FE) events.push('wrong frontend path');
    dev.publish({ sectors: '2048', 'sector-size': '512', info: '0' });
    dev.switchState(S.Connected);
  });
  dev.on('close', () => {
    events.push('close');
    if (opts.autoClose ?? true) dev.switchState(S.Closed);
  });
  dev.start();
  if (opts.initWait ?? true) {
    dev.publish({ 'feature-flush-cache': '1' });
    dev.switchState(S.InitWait);
  }
  const front = (s: XenbusStateValue | string): void => store.write(`${FE}/state`, String(s));
  return { store, dev, events, front };
}

t.test('state names and parsing', async (t) => {
  t.equal(stateName(S.Connected), 'Connected');
  t.equal(stateName(S.Reconfigured), 'Reconfigured');
  t.equal(stateName(42), 'state 42');
  t.equal(parseState('4'), S.Connected);
  t.equal(parseState('6\n'), S.Closed);
  for (const junk of [null, '', 'banana', '-1', '9', '99', '4x', '0x4', '1e0']) t.equal(parseState(junk), S.Unknown, `${junk}`);
});

t.test('createDevicePair builds both directories atomically with libxl permissions', async (t) => {
  const store = new FakeStore();
  // Record what a frontend-side watcher can see when it first hears of the device.
  const seenAtFirstEvent: Array<string | null> = [];
  store.watch('/local/domain/5/device', () => {
    if (seenAtFirstEvent.length === 0 && store.read(`${FE}/state`) !== null) {
      seenAtFirstEvent.push(store.read(`${FE}/backend`), store.read(`${BE}/frontend`));
    }
  });
  const paths = createDevicePair(store, { ...VBD, frontKeys: { 'virtual-device': '51712', 'queue-0/x': 'y' }, backKeys: { params: '/srv/a.img' } });
  t.same(paths, { frontend: '/local/domain/5/device/vbd/51712', backend: '/local/domain/0/backend/vbd/5/51712' });
  t.same(seenAtFirstEvent, [BE, FE], 'both halves complete at the first event');
  t.equal(store.read(`${FE}/backend`), BE);
  t.equal(store.read(`${FE}/backend-id`), '0');
  t.equal(store.read(`${FE}/state`), '1');
  t.equal(store.read(`${FE}/virtual-device`), '51712');
  t.equal(store.read(`${BE}/frontend`), FE);
  t.equal(store.read(`${BE}/frontend-id`), '5');
  t.equal(store.read(`${BE}/state`), '1');
  t.equal(store.read(`${BE}/params`), '/srv/a.img');
  const fePerms = [{ id: 5, perm: 'n' }, { id: 0, perm: 'r' }];
  const bePerms = [{ id: 0, perm: 'n' }, { id: 5, perm: 'r' }];
  for (const p of [FE, `${FE}/state`, `${FE}/backend`, `${FE}/queue-0`, `${FE}/queue-0/x`]) t.same(store.perms(p), fePerms, p);
  for (const p of [BE, `${BE}/state`, `${BE}/frontend`, `${BE}/params`]) t.same(store.perms(p), bePerms, p);
});

t.test('createDevicePair replaces a stale device; bad specs are refused', async (t) => {
  const store = new FakeStore();
  store.write(`${BE}/leftover`, 'old');
  store.write(`${FE}/ring-ref`, '99');
  createDevicePair(store, VBD);
  t.equal(store.read(`${BE}/leftover`), null);
  t.equal(store.read(`${FE}/ring-ref`), null);
  t.throws(() => createDevicePair(store, { ...VBD, type: '../evil' }), RangeError);
  t.throws(() => createDevicePair(store, { ...VBD, devid: -1 }), RangeError);
  t.throws(() => createDevicePair(store, { ...VBD, frontDomid: 0x7ff0 }), RangeError);
  t.throws(() => createDevicePair(store, { ...VBD, frontKeys: { '../state': '4' } }), RangeError);
  t.throws(() => createDevicePair(store, { ...VBD, backKeys: { '': 'x' } }), RangeError);
});

t.test('removeDevicePair removes both halves and the empty per-frontend directory', async (t) => {
  const store = new FakeStore();
  createDevicePair(store, VBD);
  createDevicePair(store, { ...VBD, devid: 51728 });
  removeDevicePair(store, VBD);
  t.equal(store.read(FE), null);
  t.equal(store.read(BE), null);
  t.same(store.directory('/local/domain/0/backend/vbd/5'), ['51728'], 'sibling kept');
  removeDevicePair(store, { ...VBD, devid: 51728 });
  t.equal(store.directory('/local/domain/0/backend/vbd/5'), null, 'empty parent removed');
  t.same(store.directory('/local/domain/0/backend/vbd'), []);
  t.doesNotThrow(() => removeDevicePair(store, VBD), 'removing twice is harmless');
});

t.test('BackendDevice refuses a backend directory without sane frontend keys', async (t) => {
  const store = new FakeStore();
  t.throws(() => new BackendDevice(store, BE), { code: 'ENOENT' });
  createDevicePair(store, VBD);
  store.write(`${BE}/frontend`, '/local/domain/6/device/vbd/51712');
  t.throws(() => new BackendDevice(store, BE), { code: 'EINVAL' });
});

async function orderlyLifecycle(t: Test, async: boolean): Promise<void> {
  const step = async (): Promise<void> => {
    if (async) await settle();
  };
  const { store, dev, events, front } = rig({ async });
  await step();
  t.equal(dev.frontendState, S.Initialising);
  t.equal(store.read(`${BE}/state`), '2', 'backend waits in InitWait');
  t.equal(store.read(`${BE}/feature-flush-cache`), '1');
  // The frontend publishes its transport keys in a transaction, then says Initialised.
  store.transaction((tx) => {
    tx.write(`${FE}/ring-ref`, '8');
    tx.write(`${FE}/event-channel`, '9');
  });
  front(S.Initialised);
  await step();
  t.equal(dev.state, S.Connected);
  t.equal(store.read(`${BE}/sectors`), '2048');
  front(S.Connected);
  await step();
  front(S.Closing);
  await step();
  front(S.Closed);
  await step();
  t.same(events, ['fe:Initialising', 'fe:Initialised', 'connect:8', 'fe:Connected', 'fe:Closing', 'close', 'fe:Closed']);
  t.same(backendHistory(store), [1, 2, 4, 5, 6], 'Initialising, InitWait, Connected, Closing, Closed');
  dev.dispose();
}

t.test('orderly lifecycle, synchronous watches', (t) => orderlyLifecycle(t, false));
t.test('orderly lifecycle, watches from microtasks (as XsLocal)', (t) => orderlyLifecycle(t, true));

t.test('a frontend that skips Initialised and Closing', async (t) => {
  const { store, events, front } = rig();
  store.write(`${FE}/ring-ref`, '10');
  front(S.Connected); // netfront: Initialising → Connected
  front(S.Closed); // a missed Closing
  t.same(events, ['fe:Initialising', 'fe:Connected', 'connect:10', 'fe:Closed', 'close']);
  t.same(backendHistory(store), [1, 2, 4, 5, 6], 'the backend still passes through Closing');
});

t.test('coalesced watch events still connect exactly once', async (t) => {
  const { store, events, front } = rig({ async: true });
  await settle();
  store.write(`${FE}/ring-ref`, '11');
  front(S.Initialised);
  front(S.Connected);
  await settle();
  t.same(events.filter((e) => e.startsWith('connect')), ['connect:11']);
  t.equal(store.read(`${BE}/state`), '4');
});

t.test('a frontend ready before the backend is waited for', async (t) => {
  const { store, dev, events, front } = rig({ initWait: false });
  store.write(`${FE}/ring-ref`, '12');
  front(S.Initialised);
  t.same(events, ['fe:Initialising', 'fe:Initialised'], 'no connect while the backend is Initialising');
  dev.switchState(S.InitWait);
  t.same(events, ['fe:Initialising', 'fe:Initialised', 'connect:12']);
  t.equal(dev.state, S.Connected);
});

t.test('a frontend that restarts without closing gets a clean new handshake', async (t) => {
  const { store, events, front } = rig();
  store.write(`${FE}/ring-ref`, '13');
  front(S.Connected);
  store.write(`${FE}/ring-ref`, '14');
  front(S.Initialising); // rebooted guest, Closing/Closed never seen
  t.same(backendHistory(store), [1, 2, 4, 5, 6, 2], 'closed, then InitWait again');
  front(S.Initialised);
  t.same(events.filter((e) => e === 'close' || e.startsWith('connect')), ['connect:13', 'close', 'connect:14']);
  t.equal(store.read(`${BE}/state`), '4');
});

t.test('reconnect after a full close', async (t) => {
  const { store, events, front } = rig();
  front(S.Connected);
  front(S.Closing);
  front(S.Closed);
  t.equal(store.read(`${BE}/state`), '6');
  front(S.Initialising);
  t.equal(store.read(`${BE}/state`), '2');
  front(S.Connected);
  t.equal(store.read(`${BE}/state`), '4');
  t.equal(events.filter((e) => e.startsWith('connect')).length, 2);
});

t.test('slow teardown: the backend stays Closing until its owner is done', async (t) => {
  const { store, dev, events, front } = rig({ autoClose: false });
  front(S.Connected);
  front(S.Closing);
  t.equal(store.read(`${BE}/state`), '5');
  front(S.Closed);
  front(S.Initialising); // the frontend is already starting over
  t.equal(store.read(`${BE}/state`), '5', 'no new handshake before teardown ends');
  t.equal(events.filter((e) => e === 'close').length, 1, "'close' once");
  dev.switchState(S.Closed);
  t.same(backendHistory(store), [1, 2, 4, 5, 6, 2], 'then InitWait for the new frontend');
});

t.test('a frontend that closes before connecting', async (t) => {
  const { store, events, front } = rig();
  front(S.Closed);
  t.same(events, ['fe:Initialising', 'fe:Closed', 'close']);
  t.same(backendHistory(store), [1, 2, 5, 6]);
});

t.test('garbage in the frontend state reads as Unknown and closes the device', async (t) => {
  const { store, events, front } = rig();
  front(S.Connected);
  front('banana');
  t.same(events.slice(-2), ['fe:Unknown', 'close']);
  t.equal(store.read(`${BE}/state`), '6');
  front('also garbage'); // same parsed state: no event
  t.equal(events.at(-1), 'close');
});

t.test('a removed device is closed and never resurrected', async (t) => {
  const { store, dev, events } = rig({ autoClose: false });
  store.write(`${FE}/ring-ref`, '15');
  store.write(`${FE}/state`, '4');
  removeDevicePair(store, VBD);
  t.same(events.slice(-2), ['fe:Unknown', 'close']);
  dev.switchState(S.Closed); // teardown finishing after removal
  t.equal(store.read(BE), null, 'backend directory not recreated');
  t.equal(dev.publish({ x: '1' }), false);
  t.equal(store.read(BE), null);
});

t.test('dispose stops all events', async (t) => {
  const { store, dev, events, front } = rig();
  dev.dispose();
  front(S.Connected);
  t.same(events, ['fe:Initialising']);
  dev.switchState(S.Closed);
  t.equal(store.read(`${BE}/state`), '2', 'a disposed device writes nothing');
});

t.test('watchBackends reports devices appearing and disappearing', async (t) => {
  const store = new FakeStore();
  createDevicePair(store, VBD);
  const log: string[] = [];
  const stop = watchBackends(store, 0, 'vbd',
    (f, d, p) => log.push(`new ${f}/${d} ${p}`),
    (f, d, p) => log.push(`gone ${f}/${d} ${p}`));
  t.same(log, [`new 5/51712 ${BE}`], 'existing device reported at once');
  createDevicePair(store, { ...VBD, frontDomid: 7, devid: 768 });
  t.same(log.at(-1), 'new 7/768 /local/domain/0/backend/vbd/7/768');
  createDevicePair(store, { ...VBD, type: 'vif', devid: 0 });
  t.equal(log.length, 2, 'other classes are not reported');
  // State changes inside a device are not news.
  store.write(`${BE}/state`, '4');
  t.equal(log.length, 2);
  // Half-made (no transaction, no state yet) and non-numeric entries are ignored.
  store.write('/local/domain/0/backend/vbd/9/51712/frontend', '/local/domain/9/device/vbd/51712');
  store.write('/local/domain/0/backend/vbd/junk/1/state', '1');
  store.write('/local/domain/0/backend/vbd/9/007/state', '1');
  store.write('/local/domain/0/backend/vbd/32752/1/state', '1');
  t.equal(log.length, 2);
  store.write('/local/domain/0/backend/vbd/9/51712/state', '1');
  t.equal(log.at(-1), 'new 9/51712 /local/domain/0/backend/vbd/9/51712');
  removeDevicePair(store, VBD);
  t.equal(log.at(-1), `gone 5/51712 ${BE}`);
  store.rm('/local/domain/0/backend/vbd');
  t.same(log.slice(-2).sort(), ['gone 7/768 /local/domain/0/backend/vbd/7/768', 'gone 9/51712 /local/domain/0/backend/vbd/9/51712']);
  stop();
  createDevicePair(store, VBD);
  t.equal(log.length, 6, 'nothing after stop');
});

t.test('watchBackends with microtask watches', async (t) => {
  const store = new FakeStore(true);
  const log: string[] = [];
  const stop = watchBackends(store, 0, 'vif', (f, d) => log.push(`new ${f}/${d}`), (f, d) => log.push(`gone ${f}/${d}`));
  createDevicePair(store, { type: 'vif', frontDomid: 3, backDomid: 0, devid: 0 });
  createDevicePair(store, { type: 'vif', frontDomid: 3, backDomid: 0, devid: 1 });
  await settle();
  t.same(log, ['new 3/0', 'new 3/1'], 'each device once, however the events coalesce');
  removeDevicePair(store, { type: 'vif', frontDomid: 3, backDomid: 0, devid: 0 });
  await settle();
  t.same(log, ['new 3/0', 'new 3/1', 'gone 3/0']);
  stop();
});

t.test('a device taken over from a dead backend ignores the old connection until the frontend starts over', async (t) => {
  const store = new FakeStore();
  createDevicePair(store, { ...VBD, frontKeys: { 'virtual-device': '51712' }, backKeys: { params: '/x.img', mode: 'w' } });
  // What the dead backend left: both sides Connected, the frontend's transport keys in place.
  store.write(`${FE}/ring-ref`, '8');
  store.write(`${FE}/state`, String(S.Connected));
  store.write(`${BE}/state`, String(S.Connected));
  const dev = new BackendDevice(store, BE, { takeOver: true });
  const events: string[] = [];
  dev.on('connect', () => {
    events.push(`connect:${dev.readFrontend('ring-ref')}`);
    dev.switchState(S.Connected);
  });
  dev.on('close', () => {
    events.push('close');
    dev.switchState(S.Closed);
  });
  dev.start();
  dev.switchState(S.InitWait);
  await settle();
  t.same(events, [], 'the stale Connected frontend is not connected to');
  t.equal(store.read(`${BE}/state`), String(S.InitWait), 'a fresh InitWait is offered');
  const front = (s: XenbusStateValue): void => store.write(`${FE}/state`, String(s));
  // The frontend reconnects: closing handshake, then the handshake again with a new ring.
  front(S.Closing);
  t.equal(store.read(`${BE}/state`), String(S.Closed), 'the backend closes with it');
  front(S.Closed);
  front(S.Initialising);
  t.equal(store.read(`${BE}/state`), String(S.InitWait));
  store.write(`${FE}/ring-ref`, '9');
  front(S.Initialised);
  t.same(events, ['close', 'connect:9'], 'connected once, to the new ring');
  t.equal(store.read(`${BE}/state`), String(S.Connected));
});

t.test('a taken-over device whose frontend restarts without closing connects to the new ring', async (t) => {
  const store = new FakeStore();
  createDevicePair(store, { ...VBD, frontKeys: { 'virtual-device': '51712' } });
  store.write(`${FE}/state`, String(S.Initialised));
  store.write(`${BE}/state`, String(S.Connected));
  const dev = new BackendDevice(store, BE, { takeOver: true });
  const events: string[] = [];
  dev.on('connect', () => events.push(`connect:${dev.readFrontend('ring-ref')}`));
  dev.start();
  dev.switchState(S.InitWait);
  t.same(events, [], 'a stale Initialised is not connected to either');
  store.write(`${FE}/state`, String(S.Initialising));
  store.write(`${FE}/ring-ref`, '3');
  store.write(`${FE}/state`, String(S.Initialised));
  t.same(events, ['connect:3']);
});
