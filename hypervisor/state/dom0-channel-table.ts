// dom0-channel-table.ts: event channels whose far end is a dom0 backend, in the hypervisor-wide
// SharedArrayBuffer: one slot per channel (the guest's domid and port, and the kick and notify
// eventfds dom0 holds copies of). The logic lives in events/dom0-channels.ts.
import { SlotTable } from '../../host/slot-table.ts';

export const MAX_DOM0_CHANNELS = 1024;
const GUEST_DOMID = 1;
const GUEST_PORT = 2;
const KICK_FD = 3;
const NOTIFY_FD = 4;
const WORDS = 5;
export const DOM0_CHANNEL_TABLE_BYTES = SlotTable.bytes(MAX_DOM0_CHANNELS, WORDS);

/**
 * ACTIVE: bound both ways. GUEST_CLOSED: the guest closed its port; dom0 still holds the fds.
 * GUEST_GONE: the guest died and the hypervisor's fds and relay went with it, but the number is
 * still dom0's: as a Xen dom0 port, a channel is free again only once dom0 unbinds it, so dom0's
 * late unbind can never hit another guest's channel that was given the same number meanwhile.
 */
export const DOM0_CHANNEL = { FREE: 0, ACTIVE: 1, GUEST_CLOSED: 2, CLAIMED: 3, GUEST_GONE: 4 } as const;

export class Dom0ChannelTable extends SlotTable {
  constructor(sab: SharedArrayBuffer, offset: number) {
    super(sab, offset, MAX_DOM0_CHANNELS, WORDS);
  }

  guestDomid(c: number): number { return this.field(c, GUEST_DOMID); }
  guestPort(c: number): number { return this.field(c, GUEST_PORT); }
  kickFd(c: number): number { return this.field(c, KICK_FD); }
  notifyFd(c: number): number { return this.field(c, NOTIFY_FD); }

  /** Channel numbers start at 1 (0 means "none" in the guest's port table too). */
  claimChannel(): number {
    return this.claim(1);
  }

  publish(c: number, guestDomid: number, guestPort: number, kickFd: number, notifyFd: number): void {
    this.fill(c, [guestDomid, guestPort, kickFd, notifyFd]);
  }

  /** Is `c` a channel number at all (guest- or dom0-supplied values are checked with this)? */
  inRange(c: number): boolean {
    return Number.isInteger(c) && c > 0 && c < MAX_DOM0_CHANNELS;
  }

  /** Does `c` currently connect exactly this guest port? */
  connects(c: number, guestDomid: number, guestPort: number): boolean {
    return this.inRange(c) && this.state(c) === DOM0_CHANNEL.ACTIVE &&
      this.guestDomid(c) === guestDomid && this.guestPort(c) === guestPort;
  }
}
