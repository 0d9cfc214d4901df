// net-stack.test.ts: the guest SDK's network stack (domU-sdk/src/net/) compiled for the host with
// AddressSanitizer over a fake NIC (test/fixtures/net-stack/harness.c): checksums against known
// vectors, ARP/ICMP/UDP encode and decode, the ARP cache's timeout, pings timed on a fake clock,
// truncated, hostile and fuzzed frames rejected without a read past the frame. The frames the
// stack sent are checked again here, by an independent checksum in TypeScript.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK = fileURLToPath(new URL('../domU-sdk/', import.meta.url));
const HARNESS = fileURLToPath(new URL('./fixtures/net-stack/harness.c', import.meta.url));
const SOURCES = readdirSync(join(SDK, 'src/net')).filter((f) => f.endsWith('.c')).map((f) => join(SDK, 'src/net', f));

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 16 << 20 });
  if (r.error) throw r.error;
  return r;
}

/** RFC 1071 over bytes (the sum of big-endian 16-bit words, folded, complemented). */
function csum(b: Buffer, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

function pseudo(ip: Buffer, proto: number, len: number): number {
  return ip.readUInt16BE(12) + ip.readUInt16BE(14) + ip.readUInt16BE(16) + ip.readUInt16BE(18) + proto + len;
}

const dir = mkdtempSync(join(tmpdir(), 'net-stack-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const exe = join(dir, 'harness');

t.test('the stack builds for the host with -Wall -Wextra -Werror and the sanitizers', async (t) => {
  const r = run('gcc', ['-std=gnu11', '-O1', '-g', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Werror',
    '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer',
    '-I', join(SDK, 'include'), '-o', exe, HARNESS, ...SOURCES]);
  t.equal(r.status, 0, r.stderr);
});

t.test('encode/decode, checksums, ARP, ICMP, UDP, truncated and hostile frames', async (t) => {
  const r = run(exe, []);
  const out = r.stdout;
  t.equal(r.status, 0, `${out}\n${r.stderr}`);
  t.notMatch(r.stderr, /AddressSanitizer|runtime error/, 'no out-of-bounds access or undefined behaviour');
  t.notMatch(out, /^FAIL/m, 'every check in the harness');
  t.match(out, /^DONE failures=0$/m);

  const frames = new Map<string, Buffer>();
  for (const m of out.matchAll(/^FRAME (\S+) ([0-9a-f]+)$/gm)) frames.set(m[1], Buffer.from(m[2], 'hex'));

  const arp = frames.get('arp-reply');
  t.ok(arp, 'an ARP reply was sent');
  if (arp) {
    t.equal(arp.readUInt16BE(12), 0x0806, 'EtherType ARP');
    t.same([...arp.subarray(14, 22)], [0, 1, 8, 0, 6, 4, 0, 2], 'Ethernet/IPv4, opcode reply');
    t.equal(arp.subarray(28, 32).join('.'), '10.0.0.2', 'sender is us');
    t.equal(arp.subarray(38, 42).join('.'), '10.0.0.3', 'target is the asker');
    t.ok(arp.length >= 60, 'padded to the Ethernet minimum');
  }
  for (const name of ['echo-reply', 'udp']) {
    const f = frames.get(name);
    t.ok(f, `a ${name} frame was sent`);
    if (!f) continue;
    const ip = f.subarray(14);
    const hlen = (ip[0] & 15) * 4;
    const total = ip.readUInt16BE(2);
    t.equal(ip[0] >> 4, 4, `${name}: IPv4`);
    t.equal(csum(ip.subarray(0, hlen)), 0, `${name}: the IP header checksum verifies`);
    const l4 = ip.subarray(hlen, total);
    if (name === 'udp') {
      t.equal(l4.readUInt16BE(4), l4.length, 'UDP length');
      t.equal(csum(l4, pseudo(ip, 17, l4.length)), 0, 'the UDP checksum (with the pseudo-header) verifies');
      t.equal(l4.subarray(8).toString(), 'ping-pong payload');
    } else {
      t.equal(l4[0], 0, 'echo reply');
      t.equal(csum(l4), 0, 'the ICMP checksum verifies');
    }
  }
});
