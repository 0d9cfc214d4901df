// loop.ts: the net worker's loop — one thread for every vif: epoll on each vif's kick eventfds and
// TAP fd, then rounds over the vifs in turn, each getting a fixed batch budget per round (a
// flooding guest cannot starve another), TX first (which queues frames for receivers) then RX.
import { parentPort, workerData, receiveMessageOnPort } from 'node:worker_threads';
import { libc, nameThread } from '../../../host/libc.ts';
import { EpollSet } from '../../../host/epoll.ts';
import { CTL_STOP } from '../../backend-sdk/messages.ts';
import { DataPathStopped } from '../../backend-sdk/worker/grants.ts';
import { RingOverflowError } from '../../backend-sdk/ring.ts';
import { CNT, type ControlToWorker, type NetWorkerInit, type NicAttach, type VifAttach, type WorkerToControl } from '../messages.ts';
import { VSwitch } from '../switch/vswitch.ts';
import { NetGrants } from './grants.ts';
import { VifPort, VifFault } from './vif-port.ts';
import { TapPort } from './tap-port.ts';
import { NicPort } from './nic-port.ts';
import { ETH_HLEN } from './tx-parse.ts';

/** Packets per vif per direction per round. */
export const BUDGET = 64;
const WAKE_TAG = 0;
const IDLE_MS = 1000;

interface Entry {
  readonly port: VifPort;
  readonly tap: TapPort | null;
  readonly fds: number[];
}

export function runNetWorker(): void {
  const init = workerData as NetWorkerInit;
  nameThread('netback');
  const ctl = new Int32Array(init.ctl);
  const grants = new NetGrants(init.grantPort, ctl);
  const send = (m: WorkerToControl): void => init.controlPort.postMessage(m);
  const epoll = new EpollSet(64);
  if (!epoll.add(init.wakeFd, WAKE_TAG)) throw new Error('epoll_ctl on the wake fd failed');
  const vifs = new Map<string, Entry>();
  /** epoll tag → (entry, fd, is it the TAP). */
  const tags = new Map<number, { e: Entry; fd: number; tap: boolean }>();
  /** Emulated NICs' ports (nic-port.ts), by key, and their epoll tags. */
  const nics = new Map<string, { port: NicPort; tag: number }>();
  const nicTags = new Map<number, NicPort>();
  let nextTag = 1;
  // Ports are vifs or emulated NICs: the switch only needs somewhere to queue a frame.
  const sw = new VSwitch<{ enqueueRx(data: Uint8Array, flags: number): void }>();
  const maxFrame = init.mtu + ETH_HLEN;
  const drain = new BigUint64Array(1);
  let turn = 0;

  const attach = (a: VifAttach): void => {
    if (vifs.has(a.key)) throw new Error(`vif ${a.key} is already attached`);
    const e: Entry = { port: new VifPort(a, grants, maxFrame), tap: a.tapFd === null ? null : new TapPort(a.tapFd), fds: [] };
    const watch = [...a.kickFds.map((fd) => ({ fd, tap: false })), ...(a.tapFd === null ? [] : [{ fd: a.tapFd, tap: true }])];
    for (const w of watch) {
      const tag = nextTag++;
      if (!epoll.add(w.fd, tag)) {
        for (const fd of e.fds) epoll.remove(fd);
        throw new Error(`epoll_ctl on fd ${w.fd} failed`);
      }
      tags.set(tag, { e, fd: w.fd, tap: w.tap });
      e.fds.push(w.fd);
    }
    vifs.set(a.key, e);
    if (e.tap === null) sw.add(e.port);
  };

  const attachNic = (a: NicAttach): void => {
    if (vifs.has(a.key) || nics.has(a.key)) throw new Error(`vif ${a.key} is already attached`);
    const port = new NicPort(a, maxFrame);
    const tag = nextTag++;
    if (!epoll.add(a.fd, tag)) throw new Error(`epoll_ctl on fd ${a.fd} failed`);
    nics.set(a.key, { port, tag });
    nicTags.set(tag, port);
    sw.add(port);
  };

  const detach = (key: string): void => {
    const n = nics.get(key);
    if (n !== undefined) {
      epoll.remove(n.port.cfg.fd);
      nicTags.delete(n.tag);
      sw.remove(n.port);
      nics.delete(key);
      return;
    }
    const e = vifs.get(key);
    if (e === undefined) return;
    for (const fd of e.fds) epoll.remove(fd);
    for (const [t, w] of tags) if (w.e === e) tags.delete(t);
    sw.remove(e.port);
    vifs.delete(key);
    // Before `done`: the main thread then tells the frontend, which may end access at once.
    e.port.close();
  };

  const control = (): void => {
    for (let m = receiveMessageOnPort(init.controlPort); m !== undefined; m = receiveMessageOnPort(init.controlPort)) {
      const msg = m.message as ControlToWorker;
      let error: string | null = null;
      try {
        if (msg.t === 'attach') attach(msg.vif);
        else if (msg.t === 'attach-nic') attachNic(msg.nic);
        else detach(msg.key);
      } catch (err) {
        error = (err as Error).message;
      }
      send({ t: 'done', seq: msg.seq, error });
    }
  };

  const fault = (e: Entry, err: unknown): void => {
    if (err instanceof DataPathStopped) throw err;
    e.port.broken = true;
    sw.remove(e.port);
    const why = err instanceof RingOverflowError || err instanceof VifFault ? `malformed ring: ${(err as Error).message}`
      : `data path error: ${(err as Error).stack ?? String(err)}`;
    send({ t: 'fault', key: e.port.key, reason: why });
  };

  /** A frame the guest behind `from` sent: to its TAP, or through the switch to other guests. */
  const deliver = (from: Entry, frame: Uint8Array, flags: number): void => {
    if (from.tap !== null) {
      if (!from.tap.write(frame)) from.port.counters[CNT.txDropped]!++; // the host would not take it
      return;
    }
    for (const to of sw.forward(frame, from.port)) to.enqueueRx(frame, flags);
  };

  /** One pass over every vif; true if any has more work ready now. */
  const round = (): boolean => {
    const list = [...vifs.values()];
    if (list.length === 0 && nics.size === 0) return false;
    const start = turn++ % list.length;
    const order = [...list.slice(start), ...list.slice(0, start)];
    const now = performance.now();
    let more = false;
    for (const e of order) {
      const p = e.port;
      if (p.broken) continue;
      try {
        if (p.heldUntil !== 0 && now >= p.heldUntil) {
          p.heldUntil = 0;
          p.txWork = true;
        }
        if (p.txWork && p.heldUntil === 0) p.txWork = p.serviceTx(BUDGET, (f, fl) => deliver(e, f, fl));
        if (e.tap?.readable) e.tap.readable = e.tap.read(BUDGET, (f) => p.enqueueRx(f, 0));
        // A held (rate-limited) vif waits for its timer, not in a busy loop.
        more ||= (p.txWork && p.heldUntil === 0) || (e.tap?.readable ?? false);
      } catch (err) {
        fault(e, err);
      }
    }
    for (const n of nics.values()) {
      const p = n.port;
      if (p.broken || !p.readable) continue;
      p.readable = p.read(BUDGET, (f) => { for (const to of sw.forward(f, p)) to.enqueueRx(f, 0); });
      // A closed wire stays readable (EOF) forever: stop watching it until dom0 detaches it.
      if (p.broken) {
        epoll.remove(p.cfg.fd);
        sw.remove(p);
      }
      more ||= p.readable;
    }
    for (const e of order) {
      if (e.port.broken) continue;
      try {
        more = e.port.serviceRx(BUDGET) || more;
      } catch (err) {
        fault(e, err);
      }
    }
    return more;
  };

  const timeout = (): number => {
    let ms = IDLE_MS;
    const now = performance.now();
    for (const e of vifs.values()) if (e.port.heldUntil !== 0 && !e.port.broken) ms = Math.min(ms, Math.max(0, Math.ceil(e.port.heldUntil - now)));
    return ms;
  };

  send({ t: 'ready' });
  let busy = false;
  try {
    while (Atomics.load(ctl, CTL_STOP) === 0) {
      for (const tag of epoll.wait(busy ? 0 : timeout())) {
        if (tag === WAKE_TAG) {
          libc.read(init.wakeFd, drain, 8);
          control();
          continue;
        }
        const nic = nicTags.get(tag);
        if (nic !== undefined) {
          nic.readable = true;
          continue;
        }
        const w = tags.get(tag);
        if (w === undefined) continue;
        if (w.tap) {
          if (w.e.tap !== null) w.e.tap.readable = true;
        } else {
          // One read covers every kick since the last; a kick may be for TX or for new RX buffers.
          libc.read(w.fd, drain, 8);
          w.e.port.txWork = true;
        }
      }
      busy = round();
    }
  } catch (err) {
    if (!(err instanceof DataPathStopped)) send({ t: 'log', line: `netback worker: ${(err as Error).stack ?? String(err)}` });
  }
  epoll.close();
  init.controlPort.close();
  init.grantPort.close();
  parentPort?.close();
}
