// emulated-host.ts: the main thread's side of a domain's emulated devices — disk images and the UART console streams.
import { openSync } from 'node:fs';
import { imageSize } from '../../host/block-io.ts';
import { PvkvmError } from '../../host/errors.ts';
import { libc } from '../../host/libc.ts';
import { seqpacketPair } from '../../host/packet-pair.ts';
import { ConsoleRingsHostSide, newConsoleRings } from './console-rings.ts';
import { NicWakeHost } from './nic-wake.ts';
import { SECTOR } from './sector-store.ts';
import type { EmulatedDevicesInit } from './domain-devices.ts';

export interface EmulatedDiskConfig {
  readonly path: string;
  readonly readonly: boolean;
}

export interface EmulatedNicConfig {
  /** The card's PROM station address (6 bytes). */
  readonly mac: readonly number[];
}

/** One ISA NE2000 at 0x300/IRQ 9 (QEMU's ne2k_isa defaults); a second would need other resources. */
export const MAX_EMULATED_NICS = 1;

/** The primary IDE channel has a master and a slave position. */
export const MAX_EMULATED_DISKS = 2;

export class EmulatedHost {
  readonly init: EmulatedDevicesInit;
  private readonly fds: number[] = [];
  /** dom0's end of each NIC's wire, handed over the privileged interface at create. */
  readonly nicDom0Fds: number[] = [];
  /** Watches the NICs' wires so a frame arriving for a halted guest kicks vCPU 0 (null without NICs). */
  readonly nicWake: NicWakeHost | null;
  private readonly rings: ConsoleRingsHostSide | null;
  private readonly decoder = new TextDecoder('utf-8');

  /** Open the images (throws a one-line Error naming the bad one) and set up the console rings. */
  constructor(disks: readonly EmulatedDiskConfig[] = [], uartConsole = false, nics: readonly EmulatedNicConfig[] = []) {
    if (nics.length > MAX_EMULATED_NICS) throw new RangeError(`at most ${MAX_EMULATED_NICS} emulated NIC (one NE2000 at 0x300, IRQ 9), got ${nics.length}`);
    for (const n of nics) if (n.mac.length !== 6 || n.mac.some((b) => !Number.isInteger(b) || b < 0 || b > 255) || (n.mac[0]! & 1) !== 0) throw new RangeError('an emulated NIC needs a 6-byte unicast MAC');
    if (disks.length > MAX_EMULATED_DISKS) throw new RangeError(`at most ${MAX_EMULATED_DISKS} emulated disks (primary master and slave), got ${disks.length}`);
    const opened: { fd: number; readonly: boolean }[] = [];
    try {
      for (const d of disks) {
        let fd: number;
        try {
          fd = openSync(d.path, d.readonly ? 'r' : 'r+');
        } catch (err) {
          throw new PvkvmError(`emulated disk ${d.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        this.fds.push(fd);
        if (imageSize(fd) < SECTOR) throw new PvkvmError(`emulated disk ${d.path}: the image is smaller than one sector`);
        opened.push({ fd, readonly: d.readonly });
      }
    } catch (err) {
      this.close();
      throw err;
    }
    const sab = uartConsole ? newConsoleRings() : null;
    this.rings = sab === null ? null : new ConsoleRingsHostSide(sab);
    const nicInit = nics.map((n) => {
      const [mine, dom0] = seqpacketPair();
      this.fds.push(mine, dom0);
      this.nicDom0Fds.push(dom0);
      return { fd: mine, mac: [...n.mac] };
    });
    try {
      this.nicWake = nicInit.length === 0 ? null : new NicWakeHost(nicInit.map((n) => n.fd));
    } catch (err) {
      this.close();
      throw err;
    }
    this.init = { uart: sab, disks: opened, nics: nicInit, ...(this.nicWake === null ? {} : { nicWake: this.nicWake.init }) };
  }

  get hasUart(): boolean {
    return this.rings !== null;
  }

  /** UART output written since the last call, decoded as UTF-8 across calls ('' if none). */
  drainOutput(): string {
    if (this.rings === null) return '';
    const bytes = this.rings.drain();
    return bytes.length === 0 ? '' : this.decoder.decode(bytes, { stream: true });
  }

  /** Queue bytes for the UART receiver; returns how many fitted (0 without a UART). */
  pushInput(bytes: Uint8Array): number {
    return this.rings === null ? 0 : this.rings.push(bytes);
  }

  close(): void {
    this.nicWake?.close();
    for (const fd of this.fds.splice(0)) libc.close(fd);
  }
}
