// vswitch.ts: dom0's internal learning switch for vifs without a host bridge — learn each frame's
// source port, send known unicast to its port, flood broadcast, multicast and unknown unicast to
// every other port. It only decides where a frame goes; the ports do the copying.
import { MacTable, macAt } from './mac-table.ts';

export class VSwitch<P> {
  private readonly ports: P[] = [];
  readonly table: MacTable<P>;

  constructor(table?: MacTable<P>) {
    this.table = table ?? new MacTable<P>();
  }

  add(port: P): void {
    if (!this.ports.includes(port)) this.ports.push(port);
  }

  remove(port: P): void {
    const i = this.ports.indexOf(port);
    if (i >= 0) this.ports.splice(i, 1);
    this.table.forget(port);
  }

  /** Where a frame from `from` goes (never back to `from`); learns its source address. */
  forward(frame: Uint8Array, from: P): readonly P[] {
    const src = macAt(frame, 6);
    // A multicast source is invalid and must not poison the table.
    if ((frame[6]! & 1) === 0) this.table.learn(src, from);
    if ((frame[0]! & 1) === 0) {
      const to = this.table.lookup(macAt(frame, 0));
      if (to !== undefined) return to === from ? [] : [to];
    }
    return this.ports.filter((p) => p !== from);
  }
}
