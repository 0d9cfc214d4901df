// dom0-channel-race.test.ts: the guest closing (or sending on) a dom0-bound port on its vCPU
// thread while dom0 unbinds the same channel on the hypervisor's main thread. Found reading the
// code after the late-unbind fix: the close changed the channel's state outside any lock, so an
// unbind in between left a freed channel stuck as GUEST_CLOSED (its number lost, and its fd
// closed a second time when the guest died), and a send could write the kick eventfd just after
// the unbind closed it (its number may by then be another file's). Both now run under the guest's
// event lock; this test makes the two threads overlap, round after round.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { HypervisorShared } from '../hypervisor/state/global-state.ts';
import { DOM0_CHANNEL } from '../hypervisor/state/dom0-channel-table.ts';
import { RELAY, MAX_RELAYS } from '../hypervisor/state/relay-table.ts';
import { allocUnboundForDom0, bindDom0, unbindDom0 } from '../hypervisor/events/dom0-channels.ts';
import { EVTCHNSTAT } from '../abi/event-channel.ts';
import { libc, EFD_CLOEXEC, EFD_NONBLOCK } from '../host/libc.ts';
import { makeBuffers } from './helpers/fifo-fake.ts';
import { bundleWorker } from './helpers/bundle-worker.ts';
import { raceHandle, CTL, REG_WORDS, type RaceJob } from './helpers/dom0-channel-race.ts';

/** What the relay thread would do: close the notify eventfds of retired relays. */
function reapRelays(hv: HypervisorShared): void {
  for (let i = 0; i < MAX_RELAYS; i++) {
    if (hv.relays.state(i) === RELAY.CLOSING) {
      libc.close(hv.relays.fd(i));
      hv.relays.setState(i, RELAY.FREE);
    }
  }
}

const spin = (ms: number): void => { const until = performance.now() + ms; while (performance.now() < until) { /* stagger */ } };

for (const role of ['close', 'kick'] as const) {
  t.test(`dom0 unbinds while the guest ${role === 'close' ? 'closes the port' : 'sends on it'}: nothing stuck, stale or written late`, async (t) => {
    const { url, remove } = await bundleWorker('dom0-channel-race-worker');
    t.teardown(remove);
    const rounds = role === 'close' ? 400 : 200;
    const job: RaceJob = {
      buffers: makeBuffers(), hv: new HypervisorShared().sab, ctl: new SharedArrayBuffer(16),
      reg: new SharedArrayBuffer(REG_WORDS * 4), role, rounds, kicks: 200,
    };
    const hv = new HypervisorShared(job.hv);
    const guest = raceHandle(job);
    const ctl = new Int32Array(job.ctl);
    const reg = new Int32Array(job.reg);
    const worker = new Worker(url, { workerData: job });
    let failed: Error | null = null;
    const finished = new Promise<void>((res) => {
      worker.once('message', () => res());
      worker.once('error', (e) => { failed = e; res(); });
    });
    /** Wait for the worker to finish a round without blocking this thread's event loop. */
    const roundDone = async (round: number): Promise<void> => {
      const deadline = Date.now() + 120_000;
      while (Atomics.load(ctl, CTL.done) < round) {
        if (failed !== null) throw failed;
        if (Date.now() > deadline) throw new Error(`the worker did not finish round ${round}`);
        await new Promise((r) => setImmediate(r));
      }
    };

    let stuck = 0;
    let stale = 0;
    let lateWrites = 0;
    for (let round = 1; round <= rounds; round++) {
      const port = allocUnboundForDom0(guest);
      const b = bindDom0(hv, guest, port);
      if (typeof b === 'number') throw new Error(`bind failed: ${b}`);
      Atomics.store(ctl, CTL.channel, b.channel);
      Atomics.store(ctl, CTL.port, port);
      Atomics.store(ctl, CTL.go, round);
      Atomics.notify(ctl, CTL.go);
      spin((round % 20) * 0.05); // different overlaps from round to round (the worker wakes late)
      unbindDom0(hv, guest, b.channel);
      // New eventfds now take the numbers the unbind freed: a send that passed its check before
      // the unbind and writes after it would land in one of them.
      const probes = [libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)];
      await roundDone(round);
      const count = new BigUint64Array(1);
      for (const fd of probes) {
        if (libc.read(fd, count, 8) === 8) lateWrites++;
        libc.close(fd);
      }
      reapRelays(hv);
      // The guest's end: closed (the close role did it), so the next round may take the port.
      guest.shared.lockEvents();
      guest.ports.set(port, { state: EVTCHNSTAT.values.closed, vcpu: 0, remoteDom: 0, remotePort: 0 });
      guest.shared.unlockEvents();
      // dom0 unbound once, whatever the guest did meanwhile: the number must be free again.
      if (hv.dom0.state(b.channel) !== DOM0_CHANNEL.FREE) {
        stuck++;
        hv.dom0.setState(b.channel, DOM0_CHANNEL.FREE);
      }
      if (Atomics.load(reg, 2 * port) !== 0) {
        stale++;
        Atomics.store(reg, 2 * port, 0);
      }
    }
    await finished;
    await worker.terminate();
    t.equal(stuck, 0, `no channel left unfreeable after dom0's unbind (${rounds} rounds)`);
    t.equal(stale, 0, 'no ioeventfd left registered on a closed port');
    t.equal(lateWrites, 0, "no kick written into an eventfd the unbind's close made room for");
  });
}
