// evtchn.mjs: event-channel costs — a guest's EVTCHNOP_send on an interdomain port (the
// ioeventfd fast path) ÷ a null hypercall (a user-space exit), and the domU↔domU round trip.
import { median, round } from './lib.mjs';
import { loadHypervisor, runDomain } from './in-process.mjs';

const RUNS = Number(process.env.PVKVM_BENCH_RUNS ?? 3);
const ROUNDS = Number(process.env.PVKVM_BENCH_PINGPONG ?? 5000);

async function kickOnce(hv) {
  // Domain ids are handed out in creation order: the receiver is created right after the sender.
  const senderId = hv.peekDomid();
  const s = runDomain(hv, 'kick-sender', 'kick', `role=sender peer=${senderId + 1} n=40000`);
  const r = runDomain(hv, 'kick-receiver', 'kick', `role=receiver peer=${s.dom.domid} port=1`);
  const { out } = await s.done;
  r.dom.destroy('benchmark done');
  await r.done;
  const m = /send_cycles=(\d+) null_cycles=(\d+)/.exec(out);
  if (!m) throw new Error(`kick guest failed:\n${out}`);
  return { send: Number(m[1]), nul: Number(m[2]) };
}

async function pingpongOnce(hv) {
  const aId = hv.peekDomid();
  const A = runDomain(hv, 'ping', 'pingpong', `role=a peer=${aId + 1} n=${ROUNDS} timeout_ms=60000`);
  const B = runDomain(hv, 'pong', 'pingpong', `role=b peer=${A.dom.domid} port=1 n=${ROUNDS} timeout_ms=60000`);
  const [ra] = await Promise.all([A.done, B.done]);
  const m = /rtt_us=([\d.]+)/.exec(ra.out);
  if (!m || !/Test result: SUCCESS/.test(ra.out)) throw new Error(`pingpong failed:\n${ra.out}`);
  return Number(m[1]);
}

export async function run(ctx) {
  const hv = await loadHypervisor();
  try {
    const kicks = [];
    const rtts = [];
    for (let i = 0; i < RUNS; i++) {
      const k = await kickOnce(hv);
      ctx.log(`run ${i + 1}/${RUNS}: send ${k.send} cycles, null hypercall ${k.nul} cycles`);
      kicks.push(k);
      rtts.push(await pingpongOnce(hv));
      ctx.log(`run ${i + 1}/${RUNS}: ping-pong round trip ${rtts[i]} µs`);
    }
    const send = median(kicks.map((k) => k.send));
    const nul = median(kicks.map((k) => k.nul));
    const kickRatio = send / nul;
    const pingpong = median(rtts);
    return {
      kick_ratio: round(kickRatio, 4),
      target_kick_ratio: 0.15,
      send_cycles: send,
      null_hypercall_cycles: nul,
      pingpong_us: round(pingpong, 1),
      pingpong_rounds: ROUNDS,
      runs: { kicks, pingpong_us: rtts },
      summary: `kick_ratio ${kickRatio.toFixed(3)} (send ${send} ÷ null hypercall ${nul} cycles; target ≤ 0.15); ping-pong round trip ${pingpong.toFixed(1)} µs`,
    };
  } finally {
    await hv.close();
  }
}
