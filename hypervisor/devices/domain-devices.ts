// domain-devices.ts: a domain's emulated PC devices on a vCPU thread — which exist, where they sit, and their IRQ wiring.
import { newPortMap, newMmioMap, type PortMap, type MmioMap, type PortDevice } from './io-bus.ts';
import type { IrqLine } from './irq-line.ts';
import { Uart16550, COM1 } from './uart-16550.ts';
import { AtaChannel } from './ata-channel.ts';
import { PRIMARY, MAX_MULTIPLE } from './ata-regs.ts';
import { SectorStore } from './sector-store.ts';
import { ConsoleRingsGuestSide } from './console-rings.ts';
import { Ne2000 } from './ne2000/ne2000.ts';
import { NE2K_ISA } from './ne2000/regs.ts';
import { PacketEnd } from '../../host/packet-pair.ts';
import { NicWakeGuest, type NicWakeInit } from './nic-wake.ts';
import { HYPERCALL_PAGE, DEBUGCONS } from '../../abi/hypercalls.ts';
import { PVKVM_VERSION } from '../../abi/pvkvm-version.ts';

/** What the main thread hands every vCPU worker (see emulated-host.ts for the other end). */
export interface EmulatedDevicesInit {
  /** The UART's console rings, or null for no UART. */
  readonly uart: SharedArrayBuffer | null;
  /** Open image fds: index 0 is the primary master, 1 the primary slave. */
  readonly disks: readonly { readonly fd: number; readonly readonly: boolean }[];
  /** Emulated NE2000s: the hypervisor's end of each NIC's wire to dom0's switch (at most one, at 0x300). */
  readonly nics?: readonly { readonly fd: number; readonly mac: readonly number[] }[];
  /** The NICs' RX watcher (nic-wake.ts), whose one-shot watches vCPU 0 re-arms. */
  readonly nicWake?: NicWakeInit;
}

/**
 * Emulated devices run on vCPU 0's thread only: their state is plain JS objects, which cannot be
 * shared between workers. The other vCPUs know the claimed ranges (a null device) so the exit
 * handler can stop a guest that touches them there, rather than let it see a floating bus.
 */
export const DEVICE_VCPU = 0;

/** The hypervisor's own ports: claimed first so no device can shadow them. */
const RESERVED: PortDevice = { name: 'pvkvm hypercall ports', read: () => 0xffffffff, write: () => {} };

export class DomainDevices {
  readonly ports: PortMap = newPortMap();
  readonly mmio: MmioMap = newMmioMap();
  uart: Uart16550 | null = null;
  ata: AtaChannel | null = null;
  nic: Ne2000 | null = null;
  private rings: ConsoleRingsGuestSide | null = null;
  private nicWake: NicWakeGuest | null = null;
  private readonly stores: SectorStore[] = [];

  constructor() {
    const lo = HYPERCALL_PAGE.values.SEND_PORT;
    const hi = Math.max(HYPERCALL_PAGE.values.TRAP_PORT, DEBUGCONS.values.IOPORT);
    this.ports.register(lo, hi - lo + 1, RESERVED);
  }

  /** Move waiting console input into the UART (vCPU 0, before each entry: the host kicks us after queueing). */
  poll(): void {
    if (this.rings !== null && this.rings.hasInput()) this.uart!.pullInput();
    // Frames waiting on the NIC's wire enter the card's ring while it has room (a syscall per exit).
    // Once the wire is empty, re-arm its watcher: the next frame then kicks us even from HLT.
    if (this.nic?.poll() === true) this.nicWake?.drained();
  }

  /** The NE2000 at 0x300/IRQ 9, its wire the hypervisor's end of a socketpair to dom0's switch. */
  addNe2000(nic: { fd: number; mac: readonly number[] }, irq: IrqLine, wake?: NicWakeInit): Ne2000 {
    if (wake !== undefined) this.nicWake = new NicWakeGuest(wake, 0, nic.fd);
    this.nic = new Ne2000(irq, Uint8Array.from(nic.mac), new PacketEnd(nic.fd));
    this.ports.register(NE2K_ISA.base, NE2K_ISA.length, this.nic);
    return this.nic;
  }

  /** Attach the UART: output into the rings (waking the host), input pulled from them. */
  addUart(sab: SharedArrayBuffer, irq: IrqLine, wake: () => void): Uart16550 {
    const rings = new ConsoleRingsGuestSide(sab);
    this.rings = rings;
    this.uart = new Uart16550(irq, (b) => { if (rings.put(b)) wake(); }, rings);
    this.ports.register(COM1.base, COM1.length, this.uart);
    return this.uart;
  }

  addAta(disks: EmulatedDevicesInit['disks'], irq: IrqLine): AtaChannel {
    const specs = disks.map((d, i) => {
      const store = new SectorStore(d.fd, d.readonly, MAX_MULTIPLE);
      this.stores.push(store);
      return { store, identity: { serial: `PVKVM-HD${i}`, model: 'PVKVM HARDDISK', firmware: PVKVM_VERSION } };
    });
    this.ata = new AtaChannel(irq, specs);
    this.ports.register(PRIMARY.base, PRIMARY.length, this.ata);
    this.ports.register(PRIMARY.control, 1, this.ata.control);
    return this.ata;
  }

  /** Free the sector buffers (the image fds are the main thread's). */
  close(): void {
    for (const s of this.stores) s.close();
    this.stores.length = 0;
  }
}

/**
 * The devices a vCPU worker sees: the real ones on vCPU 0, placeholders elsewhere; null when the
 * domain has no emulated devices (the exit path then stays exactly as before).
 */
export function buildDomainDevices(
  init: EmulatedDevicesInit | undefined, vcpuId: number, irqLine: (gsi: number) => IrqLine, wake: () => void,
): DomainDevices | null {
  const nics = init?.nics ?? [];
  if (init === undefined || (init.uart === null && init.disks.length === 0 && nics.length === 0)) return null;
  const devs = new DomainDevices();
  if (vcpuId !== DEVICE_VCPU) {
    if (init.uart !== null) devs.ports.register(COM1.base, COM1.length, null, 'uart-16550');
    if (init.disks.length > 0) {
      devs.ports.register(PRIMARY.base, PRIMARY.length, null, 'ata-primary');
      devs.ports.register(PRIMARY.control, 1, null, 'ata-primary-control');
    }
    if (nics.length > 0) devs.ports.register(NE2K_ISA.base, NE2K_ISA.length, null, 'ne2000');
    return devs;
  }
  if (init.uart !== null) devs.addUart(init.uart, irqLine(COM1.irq), wake);
  if (init.disks.length > 0) devs.addAta(init.disks, irqLine(PRIMARY.irq));
  if (nics.length > 0) devs.addNe2000(nics[0]!, irqLine(NE2K_ISA.irq), init.nicWake);
  return devs;
}
