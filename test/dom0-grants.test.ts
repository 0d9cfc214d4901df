// dom0-grants.test.ts: batched grant maps by dom0 over the privileged interface — the test plays
// dom0 against a real hypervisor daemon: it maps a guest's grant through the guest memory file,
// checks the bytes, writes through it, and unmaps so the guest can end access.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { kvmTest } from './helpers/kvm.ts';
import { hypervisorAlone } from './helpers/hypervisor-alone.ts';
import { guestPath } from './helpers/run-guest.ts';
import { eventually } from './helpers/daemons.ts';
import { GNTST } from '../abi/grant-table.ts';
import { mapShared, libc } from '../host/libc.ts';
import type { Event } from '../abi/privileged.ts';

const ST = GNTST.values;
const REF = 8; // grant-peer's first reference (after the reserved entries)

/** grant-peer's page contents: byte i of page `which` of domain `dom`. */
function pattern(dom: number, which: number, i: number): number {
  return (dom * 31 + which * 7 + i * 13 + (i >> 8)) & 0xff;
}

t.test('dom0 maps, checks, writes and unmaps a guest grant', kvmTest(), async (t) => {
  const { hv } = await hypervisorAlone(t, 'grants');

  let consoleText = '';
  let dead: Extract<Event, { what: 'dead' }>['dead'] | null = null;
  hv.on('event', (ev) => {
    if (ev.what === 'console_io') consoleText += Buffer.from(ev.console_io).toString();
    if (ev.what === 'dead') dead = ev.dead;
  });
  const created = await hv.call({ op: 'create', create: {
    name: 'granter', kernel: new Uint8Array(readFileSync(guestPath('grant-peer'))), kernel_name: 'grant-peer.elf',
    memory_mib: 32, vcpus: 1, cmdline: 'role=survivor peer=0', modules: [], start_paused: false, dom0_rings: false,
  } });
  if (created.response.body !== 'created') throw new Error('bad create reply');
  const domid = created.response.created.info.domid;

  const mem = await hv.call({ op: 'map_memory', map_memory: { domid } });
  const memFd = mem.fds[0]!;
  t.teardown(() => libc.close(memFd));

  // The guest grants first thing; until then the entry does not permit access.
  const mapped = await eventually(async () => {
    const r = await hv.call({ op: 'grant_map', grant_map: { ops: [{ domid, ref: REF, readonly: false }] } });
    const res = r.response.body === 'grant_map' ? r.response.grant_map.results[0]! : null;
    return res !== null && res.status === ST.okay ? res : undefined;
  });
  if (mapped === undefined) throw new Error('the grant never became mappable');
  t.equal(mapped.offset % 4096, 0, 'a page offset in the memory file');

  const page = mapShared(memFd, 4096, mapped.offset);
  let same = true;
  for (let i = 4; i < 4096; i++) if (page.bytes[i] !== pattern(domid, 0, i)) same = false;
  t.ok(same, 'the granted page, byte for byte');
  new DataView(page.bytes.buffer, page.bytes.byteOffset).setUint32(0, 0x77777777, true);
  libc.munmap(page.ptr, 4096);

  // Errors, in one batch, per operation.
  const bad = await hv.call({ op: 'grant_map', grant_map: { ops: [
    { domid, ref: 100000, readonly: false },
    { domid: 999, ref: REF, readonly: false },
    { domid, ref: REF + 1, readonly: true },
  ] } });
  t.same(bad.response.body === 'grant_map' ? bad.response.grant_map.results.map((r) => r.status) : null,
    [ST.bad_gntref, ST.bad_domain, ST.general_error], 'bad ref, no such domain, entry not granted');

  t.ok(await eventually(() => (consoleText.includes('survivor: mapped by peer') ? true : undefined)), 'the guest saw GTF_reading');
  const un = await hv.call({ op: 'grant_unmap', grant_unmap: { handles: [mapped.handle, mapped.handle, 12345] } });
  t.same(un.response.body === 'grant_unmap' ? un.response.grant_unmap.status : null, [ST.okay, ST.bad_handle, ST.bad_handle]);

  t.ok(await eventually(() => (dead !== null ? true : undefined)), 'the guest finished');
  t.match(consoleText, /survivor: released/, 'the pins were dropped');
  t.match(consoleText, /Test result: SUCCESS/, 'it saw what dom0 wrote and could end access');
});
