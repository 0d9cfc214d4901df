// ns-udp.mjs: the host's side of a UDP exchange with the `network` guest, run by a test inside a
// network namespace (`ip netns exec NS node test/helpers/ns-udp.mjs MODE ...`). It speaks the
// guest's datagram format (domU-sdk/guests/network/network.c): big-endian u32 magic "PVNT",
// u32 kind (0 data, 1 done), u32 seq (data) or the number sent (done), u32 count, then filler
// bytes (seq + i) & 0xff for i = 16..size-1. Prints one JSON line at the end (and "listening"
// once a receiver is bound).
//
//   recv PORT COUNT TIMEOUT_MS            count the guest's udp-send datagrams, checking each byte
//   send HOST PORT COUNT SIZE RATE        numbered datagrams to a guest's udp-recv, paced at RATE
//                                         per second, then the done marker (5 times)
//   echo HOST PORT COUNT SIZE             one datagram at a time to a responder's UDP echo;
//                                         each answer must be byte-for-byte what was sent
import dgram from 'node:dgram';

const MAGIC = 0x50564e54;
const HDR = 16;
const [mode, ...args] = process.argv.slice(2);

function datagram(kind, seq, count, size) {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt32BE(kind, 4);
  b.writeUInt32BE(seq, 8);
  b.writeUInt32BE(count, 12);
  for (let i = HDR; i < size; i++) b[i] = (seq + i) & 0xff;
  return b;
}

/** What is wrong with a data datagram, or null. */
function badData(m) {
  if (m.length < HDR || m.readUInt32BE(0) !== MAGIC) return 'magic';
  const seq = m.readUInt32BE(8);
  for (let i = HDR; i < m.length; i++) if (m[i] !== ((seq + i) & 0xff)) return `byte ${i} of seq ${seq}`;
  return null;
}

const done = (o) => { process.stdout.write(`${JSON.stringify(o)}\n`); process.exit(0); };

if (mode === 'recv') {
  const [port, count, timeoutMs] = args.map(Number);
  // A big receive buffer (the kernel caps it at net.core.rmem_max): this process may be
  // descheduled for a while on a busy machine, and the test is about the guest, not about us.
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 16 << 20 });
  s.on('error', (e) => done({ error: String(e) }));
  const seen = new Set();
  const st = { received: 0, duplicates: 0, reordered: 0, bad: 0, badWhy: null, bytes: 0, sizes: new Set(), marker: false, sent: null, from: null };
  let max = -1;
  let linger = null;
  const finish = () => done({ ...st, sizes: [...st.sizes], lost: (st.sent ?? count) - st.received });
  s.on('message', (m, rinfo) => {
    st.from = `${rinfo.address}:${rinfo.port}`;
    if (m.length >= 8 && m.readUInt32BE(0) === MAGIC && m.readUInt32BE(4) === 1) {
      st.marker = true;
      st.sent = m.readUInt32BE(8);
      linger ??= setTimeout(finish, 300);
      return;
    }
    const why = badData(m);
    if (why !== null || m.readUInt32BE(4) !== 0) { st.bad++; st.badWhy ??= why ?? 'kind'; return; }
    const seq = m.readUInt32BE(8);
    if (seen.has(seq)) { st.duplicates++; return; }
    if (seq < max) st.reordered++;
    max = Math.max(max, seq);
    seen.add(seq);
    st.received++;
    st.bytes += m.length;
    st.sizes.add(m.length);
    if (st.received === count && linger === null) linger = setTimeout(finish, 300);
  });
  s.bind(port, () => process.stdout.write('listening\n'));
  setTimeout(finish, timeoutMs);
} else if (mode === 'send') {
  const [host, ...rest] = args;
  const [port, count, size, rate] = rest.map(Number);
  const s = dgram.createSocket('udp4');
  const t0 = process.hrtime.bigint();
  let seq = 0;
  let errors = 0;
  const step = () => {
    // Send what the schedule allows so far (rate per second), then sleep a little.
    const due = Math.min(count, Math.floor(Number(process.hrtime.bigint() - t0) / 1e9 * rate) + 1);
    const batch = [];
    for (; seq < due; seq++) batch.push(new Promise((r) => s.send(datagram(0, seq, count, size), port, host, (e) => { if (e) errors++; r(); })));
    void Promise.all(batch).then(() => {
      if (seq < count) { setTimeout(step, 2); return; }
      let n = 0;
      const marker = () => s.send(datagram(1, count, count, HDR), port, host, () => {
        if (++n < 5) setTimeout(marker, 20);
        else done({ sent: count, errors });
      });
      marker();
    });
  };
  step();
} else if (mode === 'echo') {
  const [host, ...rest] = args;
  const [port, count, size] = rest.map(Number);
  const s = dgram.createSocket('udp4');
  let i = 0;
  let tries = 0;
  const st = { sent: 0, echoed: 0, mismatched: 0, retries: 0 };
  let want = null;
  let timer = null;
  const next = () => {
    if (i === count) { done(st); return; }
    // Vary the payload: every datagram's filler differs (its seq), and so does its size.
    want = datagram(0, i, count, HDR + ((i * 37) % (size - HDR + 1)));
    st.sent++;
    s.send(want, port, host);
    timer = setTimeout(() => {
      // Lost (an ARP miss on the first one, say): try again, a few times at most.
      if (++tries > 5) { i++; tries = 0; next(); return; }
      st.retries++;
      s.send(want, port, host);
      timer.refresh();
    }, 500);
  };
  s.on('message', (m) => {
    if (want === null || m.length < HDR || m.readUInt32BE(8) !== i) return; // a late duplicate of an earlier one
    clearTimeout(timer);
    if (Buffer.compare(m, want) === 0) st.echoed++; else st.mismatched++;
    i++;
    tries = 0;
    next();
  });
  s.bind(0, next);
} else {
  process.stderr.write(`ns-udp.mjs: unknown mode ${mode}\n`);
  process.exit(2);
}
