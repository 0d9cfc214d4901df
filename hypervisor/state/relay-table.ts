// relay-table.ts: the event-channel fast path's table in the hypervisor-wide SharedArrayBuffer —
// one slot per eventfd the relay thread watches (a guest port's ioeventfd, or dom0's notify
// eventfd of a channel), filled by vCPU and main threads, followed by the relay thread.
import { SlotTable, SLOT } from '../../host/slot-table.ts';

export const MAX_RELAYS = 1024;
/** Fields after the state word. */
const FD = 1;
const DOMID = 2;
const PORT = 3;
const WORDS = 4;
export const RELAY_TABLE_BYTES = SlotTable.bytes(MAX_RELAYS, WORDS);

/** Entry states. CLOSING entries are reaped (epoll removal, close) by the relay thread. */
export const RELAY = SLOT;

export class RelayTable extends SlotTable {
  static readonly FD_FIELD = FD;

  constructor(sab: SharedArrayBuffer, offset: number) {
    super(sab, offset, MAX_RELAYS, WORDS);
  }

  fd(i: number): number { return this.field(i, FD); }
  /** The sending domain, or 0 for dom0's notify eventfd of a channel. */
  domid(i: number): number { return this.field(i, DOMID); }
  /** The sender's port, or the dom0 channel number when domid is 0. */
  port(i: number): number { return this.field(i, PORT); }

  publish(i: number, fd: number, domid: number, port: number): void {
    this.fill(i, [fd, domid, port]);
  }

  /** Ask the relay thread to drop every ACTIVE entry matching `domid` (and `port`, if given). */
  retire(domid: number, port?: number): void {
    for (let i = 0; i < MAX_RELAYS; i++) {
      if (this.state(i) === RELAY.ACTIVE && this.domid(i) === domid && (port === undefined || this.port(i) === port)) {
        this.setState(i, RELAY.CLOSING);
      }
    }
  }
}
