// devices-kvm.test.ts: smoke test on KVM — a tiny 32-bit guest drives the UART and the ATA disk through real port-I/O exits (string I/O included).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kvmTest } from './helpers/kvm.ts';
import { ROOT } from './helpers/run-guest.ts';
import { Hypervisor } from '../hypervisor/domain/hypervisor.ts';
import type { Domain, DomainEnd } from '../hypervisor/domain/domain.ts';

const workerUrl = pathToFileURL(join(ROOT, 'dist', 'vcpu-worker.js'));

/**
 * Prints a greeting on COM1, reads LBA 1 with READ SECTORS (`rep insw`) and prints it, writes
 * LBA 2 with WRITE SECTORS (`rep outsw`), flushes, then echoes COM1 input until '!'.
 * Polling only (no interrupts): 32-bit code here runs under KVM's instruction emulator.
 */
const GUEST = String.raw`
	.section .note.Xen, "a", @note
	.balign 4
	.long 2f - 1f
	.long 4f - 3f
	.long 18
1:	.asciz "Xen"
2:	.balign 4
3:	.long pvh_start
4:	.balign 4

	.text
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	movl $stack_top, %esp
	movl $msg_hello, %esi
	call puts
	movl $0x20, %ebx		# READ SECTORS, LBA 1
	movb $1, %cl
	call ata_cmd
	call wait_drq
	movw $0x1f0, %dx
	movl $buf, %edi
	movl $256, %ecx
	rep insw
	movl $buf, %esi
	call puts
	movl $0x30, %ebx		# WRITE SECTORS, LBA 2
	movb $2, %cl
	call ata_cmd
	call wait_drq
	movw $0x1f0, %dx
	movl $msg_sector, %esi
	movl $256, %ecx
	rep outsw
	call wait_ready
	movw $0x1f7, %dx
	movb $0xe7, %al			# FLUSH CACHE
	outb %al, %dx
	call wait_ready
	movl $msg_written, %esi
	call puts
echo:
	movw $0x3fd, %dx
5:	inb %dx, %al
	testb $1, %al
	jz 5b
	movw $0x3f8, %dx
	inb %dx, %al
	outb %al, %dx
	cmpb $'!', %al
	jne echo
	movb $'\n', %al
	outb %al, %dx
6:	hlt
	jmp 6b

# ata_cmd: command BL, one sector at 28-bit LBA CL, device 0.
ata_cmd:
	movw $0x1f6, %dx
	movb $0xe0, %al
	outb %al, %dx
	movw $0x1f2, %dx
	movb $1, %al
	outb %al, %dx
	movw $0x1f3, %dx
	movb %cl, %al
	outb %al, %dx
	xorb %al, %al
	movw $0x1f4, %dx
	outb %al, %dx
	movw $0x1f5, %dx
	outb %al, %dx
	movw $0x1f7, %dx
	movb %bl, %al
	outb %al, %dx
	ret
wait_drq:
	movw $0x1f7, %dx
7:	inb %dx, %al
	testb $0x08, %al
	jz 7b
	ret
wait_ready:
	movw $0x1f7, %dx
8:	inb %dx, %al
	testb $0x88, %al
	jnz 8b
	ret
puts:
	movw $0x3f8, %dx
9:	lodsb
	testb %al, %al
	jz 10f
	outb %al, %dx
	jmp 9b
10:	ret

	.data
msg_hello:	.asciz "uart: hello\n"
msg_written:	.asciz "ata: written\n"
	.balign 4
msg_sector:	.ascii "sector two, from the guest\n"
	.fill 512 - 27, 1, 0

	.bss
	.balign 16
buf:	.skip 512
	.skip 4096
stack_top:
`;

function tool(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.error === undefined && r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const NO_BINUTILS = tool('as', ['--version']).ok && /elf_i386/.test(tool('ld', ['-V']).out) ? false : 'GNU as/ld for i386 are not installed';

t.test('UART and ATA under KVM', { ...kvmTest(), skip: kvmTest().skip || (process.env.CI === 'true' ? false : NO_BINUTILS) }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pvkvm-devkvm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'g.s'), GUEST);
  const as = tool('as', ['--32', '-o', join(dir, 'g.o'), join(dir, 'g.s')]);
  t.ok(as.ok, 'assembles', { output: as.out });
  const ld = tool('ld', ['-m', 'elf_i386', '-T', join(ROOT, 'test/fixtures/elf32/note-section.ld'), '-o', join(dir, 'g.elf'), join(dir, 'g.o')]);
  t.ok(ld.ok, 'links', { output: ld.out });
  const image = Buffer.alloc(64 * 1024);
  image.write('sector one, from the host\n\0', 512, 'latin1');
  writeFileSync(join(dir, 'disk.img'), image);

  const hv = new Hypervisor(workerUrl);
  t.teardown(() => hv.close());
  const d: Domain = hv.createDomain({
    name: 'devices', kernel: new Uint8Array(readFileSync(join(dir, 'g.elf'))), kernelName: 'g.elf',
    memoryMiB: 16, vcpus: 1, cmdline: '', modules: [],
    emulatedDisks: [{ path: join(dir, 'disk.img'), readonly: false }], uartConsole: true,
  });
  let out = '';
  const waitFor = (text: string): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(text)}; console: ${JSON.stringify(out)}`)), 20_000);
    const check = (): void => {
      if (!out.includes(text)) return;
      clearTimeout(timer);
      d.off('uart', check);
      resolve();
    };
    d.on('uart', check);
    check();
  });
  // The guest writes to its emulated 16550: the domain's 'uart' event, not the hypervisor console.
  d.on('uart', (s) => { out += s; });
  const dead = new Promise<DomainEnd>((resolve) => d.once('dead', resolve));

  await waitFor('ata: written\n');
  t.match(out, /^uart: hello\nsector one, from the host\nata: written\n/, 'UART output and the sector read with rep insw');
  t.equal(readFileSync(join(dir, 'disk.img')).subarray(1024, 1024 + 27).toString('latin1'), 'sector two, from the guest\n', 'rep outsw reached the image');
  t.equal(d.consoleInput(Buffer.from('echo me!')), 8);
  await waitFor('echo me!\n');
  t.pass('console input went through the UART receiver and back out');
  const exits = d.liveExits();
  t.ok((exits.io ?? 0) > 50, `every register access is an exit (${exits.io} io exits)`);
  d.destroy();
  await dead;
});
