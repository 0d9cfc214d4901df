// nic-wake.test.ts: the emulated NICs' RX watcher — a frame on a quiet wire wakes vCPU 0 once per burst, re-armed only when the card emptied the wire.
import t from 'tap';
import { existsSync } from 'node:fs';
import { NicWakeHost, NicWakeGuest } from '../hypervisor/devices/nic-wake.ts';
import { PacketEnd, seqpacketPair } from '../host/packet-pair.ts';
import { libc } from '../host/libc.ts';

const URL_ = new URL('../dist/nic-wake-thread.js', import.meta.url);

/** Wait for the next wake (the watcher's message) or fail after a generous bound (no timing claim). */
function nextWake(wakes: number[], from: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const until = Date.now() + 10_000;
    const tick = (): void => {
      if (wakes.length > from) resolve();
      else if (Date.now() > until) reject(new Error('no wake-up'));
      else setTimeout(tick, 2);
    };
    tick();
  });
}

t.test('a frame kicks once; the watch stays quiet until the wire is drained and re-armed', async (t) => {
  t.ok(existsSync(URL_), 'dist/nic-wake-thread.js is built (npm run build)');
  const [mine, peer] = seqpacketPair();
  const host = new NicWakeHost([mine]);
  const guest = new NicWakeGuest(host.init, 0, mine);
  const wakes: number[] = [];
  host.start(URL_, 'nic-wake-test', () => wakes.push(Date.now()));
  const card = new PacketEnd(mine);
  const wire = new PacketEnd(peer);

  wire.send(new Uint8Array(60).fill(1));
  await nextWake(wakes, 0);
  t.equal(wakes.length, 1, 'the first frame wakes');
  // More frames while the watch is disarmed: vCPU 0 is already on its way, no further kick.
  wire.send(new Uint8Array(60).fill(2));
  wire.send(new Uint8Array(60).fill(3));
  // Re-arming while frames still wait (a card that did not empty the wire) fires at once.
  guest.drained();
  await nextWake(wakes, 1);
  t.equal(wakes.length, 2, 're-armed with frames waiting: woken again at once');
  let n = 0;
  while (card.take() !== null) n++;
  t.equal(n, 3, 'all three frames are still on the wire for the card');
  guest.drained();
  guest.drained();
  wire.send(new Uint8Array(60).fill(4));
  await nextWake(wakes, 2);
  t.equal(wakes.length, 3, 'drained and re-armed (twice, idempotent): the next frame wakes once');

  host.close();
  host.close();
  libc.close(mine);
  libc.close(peer);
});

t.test('closing before start frees the epoll set without a thread', async (t) => {
  const [a, b] = seqpacketPair();
  const host = new NicWakeHost([a]);
  host.close();
  host.start(URL_, 'never', () => t.fail('no watcher after close'));
  libc.close(a);
  libc.close(b);
  t.pass();
});
